"""Interface languages: French (the source of every msgid, and the default), English second.

The English catalogue lives in careops/locale/en; its compiled .mo is committed too, so these
tests also check that it was recompiled after the last edit of the .po.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOGIN = "/accounts/login/"
CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"

# French msgids that Django's or allauth's own French catalogues happen to translate (they are
# English words too); the French interface shows their French, which is acceptable.
FRENCH_CATALOGUE_OVERLAPS = {"Note": "Remarque", "English": "Anglais"}

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def read_po(path: Path) -> list[dict]:
    """Entries of a PO file: {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr"...}.

    Obsolete (#~) entries are left out; the header is the entry whose msgid is "".
    """
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#"):
                continue
            elif match := _KEYWORD.match(line):
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry[key] += ast.literal_eval(line)
            else:
                raise AssertionError(f"{path.name}: unreadable line {line!r}")
        if "msgid" in entry and not entry.get("obsolete"):
            entries.append(entry)
    return entries


def translations(entry: dict) -> list[str]:
    """The msgstr (or every msgstr[n]) of an entry."""
    if "msgid_plural" in entry:
        return [value for key, value in sorted(entry.items()) if key.startswith("msgstr[")]
    return [entry.get("msgstr", "")]


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    assert PO_FILE.is_file(), f"{PO_FILE} is missing: run makemessages -l en"
    return [entry for entry in read_po(PO_FILE) if entry["msgid"]]


@pytest.fixture(autouse=True)
def _restore_active_language():
    """The locale middleware activates a language in the test thread: put the previous one back."""
    previous = translation.get_language()
    yield
    if previous:
        translation.activate(previous)
    else:
        translation.deactivate()


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- Pages ---------------------------------------------------------------------------------


def test_login_page_is_french_by_default(client, db):
    html = page(client.get(LOGIN))
    assert '<html lang="fr">' in html
    assert "Connexion" in html
    assert "Mot de passe" in html
    assert "Sign in" not in html


def test_language_cookie_shows_the_login_page_in_english(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client.get(LOGIN))
    assert '<html lang="en">' in html
    assert "Sign in to careops" in html
    assert "Password" in html
    assert "Skip to main content" in html
    assert "Connexion" not in html
    assert "Mot de passe" not in html


def test_language_switcher_sets_english_then_french(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    assert '<html lang="en">' in page(client.get(LOGIN))

    client.post("/i18n/setlang/", {"language": "fr", "next": LOGIN})
    html = page(client.get(LOGIN))
    assert '<html lang="fr">' in html
    assert "Connexion" in html


def test_browser_language_alone_does_not_switch_to_english(client, db):
    """Only an explicit choice (the language cookie) changes the language, not Accept-Language."""
    html = page(client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))
    assert '<html lang="fr">' in html
    assert "Connexion" in html


def test_unknown_language_cookie_falls_back_to_french(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert '<html lang="fr">' in page(client.get(LOGIN))


@pytest.mark.parametrize(
    ("language", "allauth_text", "careops_text"),
    [
        ("fr", "Réinitialisation du mot de passe", "Aller au contenu"),
        ("en", "Password Reset", "Skip to main content"),
    ],
)
def test_allauth_pages_keep_allauth_translations(client, db, language, allauth_text, careops_text):
    """allauth's own templates (English msgids) still use allauth's catalogues, in our layout."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = page(client.get("/accounts/password/reset/"))
    assert f'<html lang="{language}">' in html
    assert allauth_text in html
    assert careops_text in html


# --- The English catalogue -----------------------------------------------------------------


def test_catalogue_header_is_english_and_not_fuzzy():
    header = next(entry for entry in read_po(PO_FILE) if entry["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]


def test_every_msgid_is_translated(po_entries):
    assert len(po_entries) > 100
    untranslated = [e["msgid"] for e in po_entries if not all(s.strip() for s in translations(e))]
    assert untranslated == []


def test_no_fuzzy_entries(po_entries):
    assert [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]] == []


def test_plural_entries_have_both_english_forms(po_entries):
    plurals = [e for e in po_entries if "msgid_plural" in e]
    assert plurals, "the catalogue has no plural entry any more: check blocktranslate count"
    for entry in plurals:
        assert len(translations(entry)) == 2, entry["msgid"]


def test_placeholders_are_kept(po_entries):
    for entry in po_entries:
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        expected = {name for source in sources for name in _PLACEHOLDER.findall(source)}
        for text in translations(entry):
            assert set(_PLACEHOLDER.findall(text)) == expected, (entry["msgid"], text)


def test_compiled_catalogue_matches_the_po(po_entries):
    """The committed .mo is up to date: `careops compilemessages -l en` after each .po edit."""
    assert MO_FILE.is_file(), f"{MO_FILE} is missing: run compilemessages -l en"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in po_entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = [
                compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                if context is not None
                else compiled.ngettext(entry["msgid"], entry["msgid_plural"], n)
                for n in (1, 2)
            ]
        else:
            got = [
                compiled.pgettext(context, entry["msgid"])
                if context is not None
                else compiled.gettext(entry["msgid"])
            ]
        assert got == translations(entry), entry["msgid"]


def test_english_is_served_from_the_catalogue(po_entries):
    with translation.override("en"):
        for entry in po_entries:
            if "msgid_plural" in entry or "msgctxt" in entry:
                continue
            assert translation.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]
        assert translation.gettext("Connexion") == "Sign in"


def test_french_msgids_are_shown_as_written(po_entries):
    """No other French catalogue (Django, allauth) rewrites careops' French source strings."""
    rewritten = {}
    with translation.override("fr"):
        for entry in po_entries:
            if "msgid_plural" in entry or "msgctxt" in entry:
                continue
            shown = translation.gettext(entry["msgid"])
            if shown != entry["msgid"]:
                rewritten[entry["msgid"]] = shown
    assert set(rewritten.items()) <= set(FRENCH_CATALOGUE_OVERLAPS.items()), rewritten
