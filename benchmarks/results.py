"""The one writer of benchmarks/RESULTS.md: each script replaces its own section, between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` (appended when the file has none yet)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(name: str, block: str, path: Path = RESULTS) -> None:
    """Put ``block`` (which carries its own start and end markers) in place of the section."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Résultats des benchmarks\n\n"
    if start in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
