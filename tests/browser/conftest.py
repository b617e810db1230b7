"""Browser fixtures: Debian's Chromium driven by Playwright, and an axe-core accessibility check.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM calls
there unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the fixtures set it for the browser tests only.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _missing(what: str) -> None:
    """Skip loudly when a browser-test tool is missing; fail instead on CI."""
    message = f"browser tests not run: {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright allows one sync session at a time per process,
    and other apps' browser tests start their own after this module ends."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not AXE.exists():
        _missing(f"{AXE} is missing (npm install axe-core)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page (WCAG 2.1 A and AA rules); return the serious and critical."""
    # Evaluated through the DevTools protocol: the pages' Content-Security-Policy forbids the
    # inline <script> that add_script_tag would insert (and must keep forbidding it).
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: tags})", WCAG_TAGS)
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """A readable report: rule, impact, help, and the offending nodes with axe's summary."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, name: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {name} ({page.url}):\n{describe(violations)}"
