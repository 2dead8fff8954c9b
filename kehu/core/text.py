"""Normalisation of names, phones and e-mails, used by collision checks and search."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")


def fold(value: str | None) -> str:
    """Fold full-width characters to half-width (NFKC), trim and collapse inner whitespace."""
    if not value:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def normalise_name(value: str | None) -> str:
    """The key two customer names must share to be the same name: folded, case-insensitive, no spaces."""
    return fold(value).replace(" ", "").casefold()


def normalise_phone(value: str | None) -> str:
    """Digits only, without the +86 / 0086 country prefix. Returns "" when nothing phone-like is left."""
    digits = _NON_DIGITS.sub("", fold(value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 5 else ""


def split_list(value: str | None) -> list[str]:
    """ "a, b，c" → ["a", "b", "c"]: a list typed in one box, with ASCII or full-width commas, blanks dropped."""
    return [part.strip() for part in (value or "").replace("，", ",").split(",") if part.strip()]


def normalise_email(value: str | None) -> str:
    return fold(value).casefold()


def mask_phone(value: str | None) -> str:
    """138****5678: what a user without the contact-details permission sees."""
    if not value:
        return ""
    digits = fold(value)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"
