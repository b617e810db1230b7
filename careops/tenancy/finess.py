"""FINESS identifier validation (nine characters: département prefix, serial, Luhn check key)."""

from __future__ import annotations

from dataclasses import dataclass

# Département prefixes: metropolitan 01–95 (20 split into 2A/2B), overseas 97x, and 98
# (Monaco and overseas collectivities), as FINESS numbers use them.
_METRO = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
_OVERSEAS = {"97", "98"}


@dataclass(frozen=True)
class FinessError(ValueError):
    """A FINESS number that is not valid, with the French reason."""

    value: str
    reason: str

    def __str__(self) -> str:
        return f"Numéro FINESS « {self.value} » invalide : {self.reason}"


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def normalize(value: str) -> str:
    """Return the FINESS number without spaces and in upper case (2a → 2A)."""
    return "".join(value.split()).upper()


def validate(value: str) -> str:
    """Return the normalised FINESS number, or raise FinessError with the reason in French.

    The ninth character is a Luhn key over the first eight; for Corsica (2A/2B) the key is
    computed with the prefix read as 20, an assumption documented as to be confirmed.
    """
    number = normalize(value)
    if len(number) != 9:
        raise FinessError(value, f"il doit compter 9 caractères, il en compte {len(number)}")
    prefix = number[:2]
    if prefix not in _METRO and prefix not in _OVERSEAS:
        raise FinessError(value, f"le préfixe départemental « {prefix} » n'existe pas")
    body = number[2:]
    if not body.isdigit():
        raise FinessError(value, "seuls les deux premiers caractères peuvent être des lettres")
    digits = ("20" if prefix in {"2A", "2B"} else prefix) + body
    if not _luhn_valid(digits):
        raise FinessError(value, "la clé de contrôle (9e caractère) ne correspond pas")
    return number


def with_key(first_eight: str) -> str:
    """Return the nine-character FINESS number completed with its check key."""
    prefix = first_eight[:2].upper()
    digits = ("20" if prefix in {"2A", "2B"} else prefix) + first_eight[2:]
    for key in "0123456789":
        if _luhn_valid(digits + key):
            return first_eight.upper() + key
    raise AssertionError("unreachable: a Luhn key always exists")
