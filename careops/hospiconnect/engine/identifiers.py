"""National identifiers of health professionals: RPPS (11 digits, Luhn key) and ADELI (9 characters)."""

from __future__ import annotations

import re

_RPPS = re.compile(r"\d{11}")
_ADELI = re.compile(r"\d{2}[0-9AB]\d{6}")


def luhn_ok(digits: str) -> bool:
    """True when the Luhn sum of ``digits`` (key included, rightmost) is a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def normalise_rpps(raw: str) -> str:
    """The RPPS written in an export: spaces removed, the national prefix « 8 » of the 12-character
    « identification nationale PP » dropped."""
    value = re.sub(r"[\s.\-]", "", raw or "")
    if len(value) == 12 and value.startswith("8"):
        value = value[1:]
    return value


def rpps_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid RPPS number (in French), or None when it is one."""
    value = normalise_rpps(raw)
    if not value:
        return "RPPS absent"
    if not _RPPS.fullmatch(value):
        return f"RPPS « {raw} » invalide : 11 chiffres attendus"
    if not luhn_ok(value):
        return f"RPPS « {raw} » invalide : clé de contrôle erronée"
    return None


def adeli_ok(raw: str) -> bool:
    """True for a well-formed ADELI number (9 characters: département, profession, order)."""
    return bool(_ADELI.fullmatch(re.sub(r"\s", "", raw or "")))


def with_luhn_key(ten_digits: str) -> str:
    """The 11-digit RPPS made of ``ten_digits`` and its Luhn key (for fixtures and generators)."""
    for key in "0123456789":
        if luhn_ok(ten_digits + key):
            return ten_digits + key
    raise AssertionError("unreachable: one Luhn key always exists")
