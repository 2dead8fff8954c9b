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


_ADDRESS_KEEP = re.compile(
    r"^.*?(?:省|自治区|市|特别行政区)(?:.*?(?:市|自治州|地区|盟))?(?:.*?(?:区|县|旗))?"
)


def mask_address(value: str | None) -> str:
    """浙江省杭州市西湖区**** : the province, city and district stay (they say where a buyer is, not who), the
    street and number are hidden. A street alone keeps only its first two characters."""
    text = fold(value)
    if not text:
        return ""
    match = _ADDRESS_KEEP.match(text)
    kept = match.group(0) if match else text[:2]
    if len(kept) >= len(text):
        kept = text[: min(max(len(text) // 2, 1), 2)]
    return f"{kept}****"


def mask_name(value: str | None) -> str:
    """张** : a person's name with all but the first character hidden."""
    text = fold(value)
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * min(len(text) - 1, 3)
