"""Reading and writing vCard (.vcf) address books: versions 2.1, 3.0 and 4.0 in, 3.0 out.

Phones export contacts as vCards: iPhones write 3.0 with property groups (`item1.TEL`), Android writes 2.1
with quoted-printable UTF-8 for anything non-ASCII, and many Chinese phones write GBK. `read_vcards()` streams
the cards of a file as `Card`s whose `fields` use the Contact model's field names; `write_vcards()` turns
contact dicts into 3.0 cards that read back to the same fields.

Error messages are plain English constants so the caller can map them to translated text.
"""

import codecs
import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MISSING_END = "The card has no END:VCARD line, so it may be cut short."
NO_NAME = "The card has no name, company, phone number or e-mail address."
NOT_VCARD = "The file is not a vCard file: it has no BEGIN:VCARD line."

FIELDS = (
    "name",
    "title",
    "department",
    "company",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "address",
    "notes",
)

_WANTED = frozenset(
    {
        "VERSION",
        "FN",
        "N",
        "ORG",
        "TITLE",
        "ROLE",
        "TEL",
        "EMAIL",
        "X-WECHAT",
        "X-WEIXIN",
        "IMPP",
        "BDAY",
        "ADR",
        "NOTE",
    }
)
_CELL = frozenset({"CELL", "MOBILE", "IPHONE"})
_NOT_VOICE = frozenset({"FAX", "PAGER"})
_WECHAT_SERVICES = frozenset({"WECHAT", "WEIXIN", "微信"})
_BARE_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_GB_CHARSETS = frozenset({"GBK", "GB2312", "GB18030", "CP936", "EUC-CN", "X-GBK"})
_COMPOUND_SURNAME = re.compile(
    "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|司空|夏侯|轩辕|令狐"
    "|端木|独孤|南宫|西门|呼延|申屠|太史|闻人|澹台|公冶|宗政|濮阳|赫连|钟离|万俟"
)

_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]")
_LINE_END = re.compile(r"\r\n|\r|\n")
_BOUNDARY = re.compile(r"(BEGIN|END)\s*:\s*VCARD", re.IGNORECASE)
_PROPERTY_NAME = re.compile(r"[^;:]*")
_QP_BYTE = re.compile(r"=([0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CN_MOBILE = re.compile(r"(?:\+86|0086|86)?1\d{10}")
_PHONE_PUNCTUATION = re.compile(r"[\s\-()]")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{4})(\d{2})(\d{2})|(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_UNESCAPES_V3 = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}
_UNESCAPES_V21 = {";": ";"}
_NO_PREF = 1000
_FOLD_OCTETS = 75


@dataclass
class Card:
    """One card of a file: where it starts, the contact fields it holds, and why it is malformed if it is."""

    line: int
    fields: dict[str, str]
    error: str = ""


@dataclass
class _Property:
    name: str
    params: dict[str, list[str]]
    value: str  # quoted-printable already decoded; vCard escapes still in place

    @property
    def types(self) -> set[str]:
        return set(self.params.get("TYPE", ()))

    def param(self, key: str) -> str:
        values = self.params.get(key)
        return values[0] if values else ""


def decode(data: bytes) -> str:
    """The text of a vCard file: UTF-8 with or without a BOM, else GB18030 (a superset of GBK)."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the charset that quoted-printable values without a CHARSET are most likely in."""
    for encoding, charset in (("utf-8-sig", "utf-8"), ("gb18030", "gb18030")):
        try:
            return data.decode(encoding).lstrip("\ufeff"), charset
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace").lstrip("\ufeff"), "gb18030"


def read_vcards(data: bytes) -> Iterator[Card]:
    """Every card in the file, in order, malformed ones included with `error` set.

    Lines outside cards are ignored; a file with text but no card yields a single NOT_VCARD card."""
    text, charset = _decode(data)
    begun = has_text = False
    start = 0
    properties: list[_Property] | None = None
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        has_text = True
        boundary = _BOUNDARY.fullmatch(stripped)
        if boundary and boundary.group(1).upper() == "BEGIN":
            begun = True
            if properties is not None:
                yield _card(start, properties, MISSING_END)
            start, properties = number, []
        elif properties is None:
            continue
        elif boundary:
            yield _card(start, properties)
            properties = None
        else:
            prop = _parse_property(line, charset)
            if prop is not None:
                properties.append(prop)
    if properties is not None:
        yield _card(start, properties, MISSING_END)
    if has_text and not begun:
        yield Card(line=1, fields={}, error=NOT_VCARD)


def _physical_lines(text: str) -> Iterator[str]:
    start = 0
    for match in _LINE_END.finditer(text):
        yield text[start : match.start()]
        start = match.end()
    if start < len(text):
        yield text[start:]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number of the first physical line, content line) with folding and quoted-printable soft breaks undone."""
    pending: str | None = None
    pending_number = 0
    quoted_printable = False
    for number, line in enumerate(_physical_lines(text), start=1):
        if pending is not None:
            if quoted_printable and pending.endswith("=") and not _BOUNDARY.fullmatch(line.strip()):
                pending = pending[:-1] + line
                continue
            if line[:1] in (" ", "\t"):
                pending += line[1:]
                continue
            yield pending_number, pending
        pending, pending_number = line, number
        quoted_printable = "QUOTED-PRINTABLE" in line.partition(":")[0].upper()
    if pending is not None:
        yield pending_number, pending


def _split_unquoted(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """`text` split on `separator` where it is outside double quotes (4.0 parameter values may quote it)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted and maxsplit != 0:
            parts.append("".join(current))
            current = []
            maxsplit -= 1
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _parse_property(line: str, charset: str) -> _Property | None:
    """The property on a content line, or None for junk and properties no contact field comes from."""
    name = _PROPERTY_NAME.match(line).group(0).strip().upper().rpartition(".")[2]
    if name not in _WANTED:
        return None
    head_and_value = _split_unquoted(line, ":", maxsplit=1)
    if len(head_and_value) < 2:
        return None
    head, value = head_and_value
    _name, *raw_params = _split_unquoted(head, ";")
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, has_value, param_value = raw.partition("=")
        key = key.strip().upper()
        if not has_value:
            key, param_value = ("ENCODING" if key in _BARE_ENCODINGS else "TYPE"), key
        param_value = param_value.strip().replace('"', "")
        if key == "TYPE":
            params.setdefault(key, []).extend(t.strip().upper() for t in param_value.split(",") if t.strip())
        else:
            params.setdefault(key, []).append(param_value)
    if any(e.upper() == "QUOTED-PRINTABLE" for e in params.get("ENCODING", ())):
        value = _decode_quoted_printable(value, _charset(params.get("CHARSET"), charset))
    return _Property(name, params, value)


def _charset(declared: list[str] | None, default: str) -> str:
    if not declared:
        return default
    name = declared[0].strip().upper()
    if name in _GB_CHARSETS:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _decode_quoted_printable(value: str, charset: str) -> str:
    raw = bytearray()
    position = 0
    for match in _QP_BYTE.finditer(value):
        raw += value[position : match.start()].encode(charset, errors="replace")
        raw.append(int(match.group(1), 16))
        position = match.end()
    raw += value[position:].rstrip("=").encode(charset, errors="replace")
    return raw.decode(charset, errors="replace")


def _unescape(value: str, version21: bool) -> str:
    table = _UNESCAPES_V21 if version21 else _UNESCAPES_V3
    return _ESCAPE.sub(lambda m: table.get(m.group(1), m.group(0)), value)


def _components(value: str) -> list[str]:
    """A structured value (N, ADR, ORG) split on its unescaped semicolons; escapes stay in place."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _card(line: int, properties: list[_Property], error: str = "") -> Card:
    version = next((p.value.strip() for p in properties if p.name == "VERSION"), "3.0")
    version21 = version.startswith("2")

    def text(prop: _Property) -> str:
        return _unescape(prop.value, version21).strip()

    def parts(prop: _Property) -> list[str]:
        return [_unescape(c, version21).strip() for c in _components(prop.value)]

    def first_text(*names: str) -> str:
        return next((t for p in properties if p.name in names and (t := text(p))), "")

    def first_parts(name: str) -> list[str]:
        return next((c for c in (parts(p) for p in properties if p.name == name) if any(c)), [])

    org = first_parts("ORG")
    found = {
        "name": first_text("FN") or _name_from_n(first_parts("N")) or (org[0] if org else ""),
        "title": first_text("TITLE") or first_text("ROLE"),
        "company": org[0] if org else "",
        "department": org[1] if len(org) > 1 else "",
        "email": _email([(text(p), p) for p in properties if p.name == "EMAIL"]),
        "wechat": _wechat([(text(p), p) for p in properties if p.name in ("X-WECHAT", "X-WEIXIN", "IMPP")]),
        "birthday": next((b for p in properties if p.name == "BDAY" and (b := _birthday(text(p), p))), ""),
        "address": _address(first_parts("ADR")),
        "notes": "\n".join(t for p in properties if p.name == "NOTE" and (t := text(p))),
    }
    phones = [(_tel_number(t), p.types) for p in properties if p.name == "TEL" and (t := text(p))]
    found["mobile"], found["phone"] = _mobile_and_phone(phones)
    fields = {key: value for key in FIELDS if (value := found[key].strip())}
    if not error and not (fields.get("name") or org or phones or fields.get("email")):
        error = NO_NAME
    return Card(line=line, fields=fields, error=error)


def _has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def _name_from_n(parts: list[str]) -> str:
    """Family and given name in the order people write them: 张三, but Ann Lee."""
    family, given, additional = (parts + [""] * 3)[:3]
    if _has_cjk(family) or _has_cjk(given):
        return family + given
    return " ".join(p for p in (given, additional, family) if p)


def _tel_number(value: str) -> str:
    """The number as written, without the tel: of a vCard 4.0 URI."""
    return value[4:].strip() if value[:4].lower() == "tel:" else value


def _looks_like_cn_mobile(number: str) -> bool:
    return _CN_MOBILE.fullmatch(_PHONE_PUNCTUATION.sub("", number)) is not None


def _mobile_and_phone(phones: list[tuple[str, set[str]]]) -> tuple[str, str]:
    """The mobile: the first cell TEL, else the first number not marked WORK that is shaped like a Chinese
    mobile. The phone: of the rest, a work line first, then any non-cell line, then a second mobile; faxes
    and pagers are neither."""
    voice = [(number, types) for number, types in phones if not types & _NOT_VOICE]
    mobile = next((entry for entry in voice if entry[1] & _CELL), None)
    if mobile is None:
        mobile = next((e for e in voice if "WORK" not in e[1] and _looks_like_cn_mobile(e[0])), None)
    rest = [entry for entry in voice if entry is not mobile]
    phone = (
        next((e for e in rest if "WORK" in e[1] and not e[1] & _CELL), None)
        or next((e for e in rest if not e[1] & _CELL), None)
        or next(iter(rest), None)
    )
    return (mobile[0] if mobile else ""), (phone[0] if phone else "")


def _preference(prop: _Property) -> int:
    rank = prop.param("PREF")
    if rank.isdigit():
        return int(rank)
    return 1 if "PREF" in prop.types else _NO_PREF


def _email(emails: list[tuple[str, _Property]]) -> str:
    candidates = [(value, prop) for value, prop in emails if value]
    if not candidates:
        return ""
    return min(candidates, key=lambda entry: _preference(entry[1]))[0]


def _wechat(entries: list[tuple[str, _Property]]) -> str:
    """X-WECHAT or X-WEIXIN, or an IMPP that is a weixin:/wechat: URI or that iOS labels as WeChat."""
    for value, prop in entries:
        scheme, _colon, rest = value.partition(":")
        if prop.name != "IMPP":
            account = value
        elif scheme.lower() in ("weixin", "wechat"):
            account = rest.strip()
        elif prop.param("X-SERVICE-TYPE").upper() in _WECHAT_SERVICES:
            account = _URI_SCHEME.sub("", value).strip()
        else:
            account = ""
        if account:
            return account
    return ""


def _birthday(value: str, prop: _Property) -> str:
    """BDAY as YYYY-MM-DD, or "" for dates without a year (--MMDD, Apple's year 1604) and unreadable ones."""
    match = _DATE.fullmatch(re.split(r"[Tt\s]", value, maxsplit=1)[0])
    if not match:
        return ""
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return ""
    if prop.param("X-APPLE-OMIT-YEAR") == str(year):
        return ""
    return date.isoformat()


def _address(parts: list[str]) -> str:
    """An ADR as one line: 中国广东省广州市天河路385号, or "1 Main St, Springfield, IL 62701, USA"."""
    if not parts:
        return ""
    _pobox, extended, street, locality, region, postal, country = (parts + [""] * 7)[:7]
    if any(_has_cjk(p) for p in parts):
        return "".join((country, region, locality, street, extended))
    street_line = ", ".join(p for p in (street, extended) if p)
    region_line = " ".join(p for p in (region, postal) if p)
    return ", ".join(p for p in (street_line, locality, region_line, country) if p)


def write_vcards(contacts: Iterable[dict]) -> Iterator[str]:
    """One vCard 3.0 text per contact dict (keys as in `FIELDS`, any of them missing or empty), CRLF lines."""
    for contact in contacts:
        yield "".join(_fold(line) + "\r\n" for line in _card_lines(contact))


def _clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def _escape(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _split_name(name: str) -> tuple[str, str]:
    """(family, given): 张 and 三 for 张三, 欧阳 and 娜娜 for 欧阳娜娜, Lee and Ann for Ann Lee."""
    if 2 <= len(name) <= 4 and all(_has_cjk(char) for char in name):
        surname = 2 if len(name) > 2 and _COMPOUND_SURNAME.match(name) else 1
        return name[:surname], name[surname:]
    words = name.split()
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def _card_lines(contact: dict) -> Iterator[str]:
    value = {key: _clean(contact.get(key)) for key in FIELDS}
    family, given = _split_name(value["name"])
    yield "BEGIN:VCARD"
    yield "VERSION:3.0"
    yield f"FN:{_escape(value['name'])}"
    yield "N:" + ";".join(_escape(part) for part in (family, given, "", "", ""))
    if value["company"]:
        yield "ORG:" + ";".join(_escape(part) for part in (value["company"], value["department"]) if part)
    labelled = (
        ("TITLE", "title"),
        ("TEL;TYPE=CELL", "mobile"),
        ("TEL;TYPE=WORK,VOICE", "phone"),
        ("EMAIL;TYPE=INTERNET", "email"),
        ("X-WECHAT", "wechat"),
        ("BDAY", "birthday"),
    )
    for label, key in labelled:
        if value[key]:
            yield f"{label}:{_escape(value[key])}"
    if value["address"]:
        yield f"ADR;TYPE=WORK:;;{_escape(value['address'])};;;;"
    if value["notes"]:
        yield f"NOTE:{_escape(value['notes'])}"
    yield "END:VCARD"


def _fold(line: str) -> str:
    """The line folded so no physical line passes 75 UTF-8 octets, never inside a character."""
    if len(line.encode()) <= _FOLD_OCTETS:
        return line
    chunks: list[str] = []
    current: list[str] = []
    size, limit = 0, _FOLD_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            chunks.append("".join(current))
            current, size, limit = [], 0, _FOLD_OCTETS - 1
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)
