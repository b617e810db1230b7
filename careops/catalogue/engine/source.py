"""Reading YAML with line numbers, and turning validation errors into French problems.

The loader composes the YAML node tree (which carries marks) and builds plain Python data from
it while recording, for every path of keys and indexes, the line where it is written. A
pydantic error location is then mapped back to that line. Timestamps are left as strings so
that a bad date becomes a located validation error rather than a parser crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

Path_ = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader that keeps timestamps as strings (dates are validated later, with a line);
    libyaml's parser when PyYAML was built with it (several times faster), same marks."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    """One located defect in a referential or dossier file, described in French."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass
class SourceDoc:
    """Plain data read from a file plus the line of every path inside it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """Line of the deepest existing prefix of ``path`` (None for data built in Python)."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), message)


def read_text(text: str, file: str) -> SourceDoc:
    """Parse YAML (or JSON) text into plain data with a line map; syntax errors become problems."""
    doc = SourceDoc(file=file, data=None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _build(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        doc.problems.append(Problem(file, line, f"YAML illisible : {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(file, None, f"YAML illisible : {exc}"))
    finally:
        loader.dispose()
    return doc


def read_file(path: str | Path) -> SourceDoc:
    """Read a YAML or JSON file; JSON that YAML cannot read is parsed without line numbers."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            reason = "fichier introuvable"
        elif isinstance(exc, IsADirectoryError):
            reason = "c'est un dossier, pas un fichier"
        elif isinstance(exc, PermissionError):
            reason = "lecture refusée (droits du fichier)"
        elif isinstance(exc, UnicodeDecodeError):
            reason = (
                f"fichier illisible : texte UTF-8 attendu (octet invalide en position {exc.start})"
            )
        else:
            reason = f"fichier illisible : {exc.strerror or exc}"
        doc = SourceDoc(file=str(path), data=None)
        doc.problems.append(Problem(str(path), None, reason))
        return doc
    doc = read_text(text, str(path))
    if doc.problems and path.suffix.lower() == ".json":
        try:
            return SourceDoc(file=str(path), data=json.loads(text))
        except json.JSONDecodeError as exc:
            return SourceDoc(
                file=str(path),
                data=None,
                problems=[Problem(str(path), exc.lineno, f"JSON illisible : {exc.msg}")],
            )
    return doc


def _build(loader: _Loader, node: yaml.Node, path: Path_, doc: SourceDoc) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                key = str(key)
            child = (*path, key)
            if key in result:
                doc.problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, f"clé en double : « {key} »")
                )
            doc.lines[child] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, index), doc) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _display(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def translate_error(error: dict[str, Any]) -> tuple[Path_, str]:
    """French message and data path for one pydantic error."""
    loc: Path_ = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field_name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if kind == "missing":
        return loc, f"champ obligatoire manquant : « {field_name} »"
    if kind == "extra_forbidden":
        return loc, f"champ inconnu : « {field_name} »"
    if kind == "union_tag_invalid":
        return (*loc, "type"), (
            f"type de critère inconnu : « {ctx.get('tag')} » "
            f"(types admis : {ctx.get('expected_tags')})"
        )
    if kind == "union_tag_not_found":
        return loc, "champ « type » manquant dans le critère"
    if kind == "literal_error":
        return (
            loc,
            f"valeur non admise : « {_display(value)} » (valeurs admises : {ctx.get('expected')})",
        )
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type", "datetime_parsing"}:
        return loc, f"date invalide : « {_display(value)} » (format attendu AAAA-MM-JJ)"
    if kind in {"int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"}:
        return loc, f"nombre attendu, reçu « {_display(value)} »"
    if kind in {"bool_parsing", "bool_type"}:
        return loc, f"booléen attendu (true/false), reçu « {_display(value)} »"
    if kind in {"string_type"}:
        return loc, f"texte attendu, reçu « {_display(value)} »"
    if kind in {"list_type"}:
        return loc, f"liste attendue pour « {field_name} »"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return loc, f"objet (clé: valeur) attendu pour « {field_name} »"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        limit = next(iter(ctx.values()), "?")
        signs = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }
        return loc, f"valeur hors limites : « {_display(value)} » (attendu {signs[kind]} {limit})"
    if kind == "value_error" and "error" in ctx:
        return loc, str(ctx["error"])
    if kind == "string_pattern_mismatch":
        return loc, f"format invalide : « {_display(value)} »"
    return loc, f"valeur invalide pour « {field_name} » : {error.get('msg', '')}"


def problems_from_validation(exc: ValidationError, doc: SourceDoc) -> list[Problem]:
    """Locate every pydantic error of ``exc`` in ``doc``, as French problems."""
    problems = []
    for error in exc.errors(include_url=False):
        loc, message = translate_error(error)
        problems.append(doc.problem(_data_path(doc, loc), message))
    return problems


def _data_path(doc: SourceDoc, loc: Path_) -> Path_:
    """Drop the parts of a pydantic location that are not in the data (union tags, wrappers)."""
    path: list[str | int] = []
    node = doc.data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        # Anything else (a union tag, a dict-key marker) is not in the data: skip it.
    return tuple(path)
