"""The message catalogs: every string is in Chinese, the catalogs match the code, and pages use them.

The .po files are committed; the .mo files are not (`make setup` compiles them). These tests read the
committed .po files, so they do not depend on a fresh `compilemessages`.
"""

import io
import re
import shutil
from contextlib import chdir
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings
from django.urls import reverse

from kehu.users.services import user_set_language

BASE_DIR = Path(settings.BASE_DIR)
LOCALES = ("zh_Hans", "en")
# The directories `make messages` leaves out (dot-directories such as .venv are ignored by Django anyway).
IGNORED = [".venv", ".tools", "var", "bench", "node_modules", "test-artifacts"]
HOW_TO_FIX = "run `make messages`, then translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po"


def catalog_path(locale: str, base: Path = BASE_DIR) -> Path:
    return base / "locale" / locale / "LC_MESSAGES" / "django.po"


# -- a tiny .po reader (polib is not a dependency) ---------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"\s*$')
_CONTINUATION = re.compile(r'^"(.*)"\s*$')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (list), flags (set), line.

    Obsolete entries (`#~`) are left out; the header is the entry whose msgid is empty.
    """
    entries: list[dict] = []
    entry: dict | None = None
    field = None

    def new_entry(line_no):
        return {
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": {},
            "flags": set(),
            "line": line_no,
        }

    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and entry["msgid"] is not None and field is not None and field != "comments":
                entries.append(entry)
                entry = None
            if entry is None:
                entry = new_entry(line_no)
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            field = "comments"
            continue
        keyword = _KEYWORD.match(line)
        if keyword:
            name, value = keyword.group(1), _unescape(keyword.group(2))
            starts_new = name in {"msgctxt", "msgid"} and entry is not None and entry["msgid"] is not None
            if starts_new and not (name == "msgid" and field == "msgctxt"):
                entries.append(entry)
                entry = None
            if entry is None:
                entry = new_entry(line_no)
            if name.startswith("msgstr"):
                index = int(name[7:-1]) if "[" in name else 0
                entry["msgstr"][index] = value
            else:
                entry[name] = value
            field = name
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and entry is not None and field not in {None, "comments"}:
            value = _unescape(continuation.group(1))
            if field.startswith("msgstr"):
                index = int(field[7:-1]) if "[" in field else 0
                entry["msgstr"][index] += value
            else:
                entry[field] += value
            continue
        raise AssertionError(f"{path}:{line_no}: cannot read this line: {raw!r}")
    if entry is not None and entry["msgid"] is not None:
        entries.append(entry)
    for item in entries:
        item["msgstr"] = [item["msgstr"][i] for i in sorted(item["msgstr"])]
    return entries


def describe(entry: dict) -> str:
    context = f" (context {entry['msgctxt']!r})" if entry["msgctxt"] is not None else ""
    return f"line {entry['line']}: {entry['msgid']!r}{context}"


def messages(path: Path) -> dict[tuple, dict]:
    """The catalog's messages (without the header), keyed by (msgctxt, msgid)."""
    return {(e["msgctxt"], e["msgid"]): e for e in read_po(path) if e["msgid"] != ""}


def header(path: Path) -> dict:
    return next(e for e in read_po(path) if e["msgid"] == "")


_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]")
_MARKUP = re.compile(r"<[^>]+>|&[a-z]+;|&#\d+;")


def placeholders(text: str) -> list[str]:
    return sorted(p for p in _PLACEHOLDER.findall(text) if p != "%%")


def markup(text: str) -> list[str]:
    return sorted(_MARKUP.findall(text))


# -- the reader itself ------------------------------------------------------------------------------------


def test_the_po_reader_understands_contexts_plurals_flags_and_wrapped_lines(tmp_path):
    """Given a small catalog with every construct we use, when read, then each entry comes back whole."""
    po = tmp_path / "django.po"
    po.write_text(
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid ""\n"Hello, "\n"%(name)s"\nmsgstr "您好，%(name)s"\n\n'
        'msgctxt "person"\nmsgid "Name"\nmsgstr ""\n\n'
        '#, fuzzy, python-format\nmsgid "%(n)s item"\nmsgid_plural "%(n)s items"\nmsgstr[0] "%(n)s 项"\n\n'
        '#~ msgid "Old"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    entries = read_po(po)
    assert [e["msgid"] for e in entries] == ["", "Hello, %(name)s", "Name", "%(n)s item"]
    assert entries[0]["flags"] == {"fuzzy"}
    assert entries[1]["msgstr"] == ["您好，%(name)s"]
    assert entries[1]["flags"] == {"python-format"}
    assert entries[2]["msgctxt"] == "person"
    assert entries[2]["msgstr"] == [""]
    assert entries[3]["msgid_plural"] == "%(n)s items"
    assert entries[3]["flags"] == {"fuzzy", "python-format"}


# -- the committed catalogs -------------------------------------------------------------------------------


def test_every_message_has_a_chinese_translation():
    """Given the Chinese catalog, when read, then no message is untranslated or marked fuzzy."""
    path = catalog_path("zh_Hans")
    assert path.exists(), f"{path} is missing: {HOW_TO_FIX}"
    head = header(path)
    assert "fuzzy" not in head["flags"], "the header of the Chinese catalog is marked fuzzy"
    assert "Plural-Forms: nplurals=1; plural=0;" in head["msgstr"][0]

    untranslated = [describe(e) for e in messages(path).values() if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [describe(e) for e in messages(path).values() if "fuzzy" in e["flags"]]
    problems = [f"untranslated {item}" for item in untranslated] + [f"fuzzy {item}" for item in fuzzy]
    assert not problems, (
        f"{len(problems)} entries of {path.relative_to(BASE_DIR)} need a translator "
        "(fill msgstr, then delete the '#, fuzzy' line):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder_and_tag(locale):
    """Given a catalog, when a message is translated, then its %(name)s placeholders and HTML survive."""
    broken = []
    for entry in messages(catalog_path(locale)).values():
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] else [])
        for translation in entry["msgstr"]:
            if not translation:
                continue  # English falls back to the msgid; Chinese gaps are reported by the test above
            if not any(placeholders(translation) == placeholders(source) for source in sources):
                broken.append(f"{describe(entry)}: placeholders {placeholders(translation)}")
            if not any(markup(translation) == markup(source) for source in sources):
                broken.append(f"{describe(entry)}: markup {markup(translation)}")
    assert not broken, f"translations in locale/{locale} lost placeholders or markup:\n" + "\n".join(broken)


def test_the_english_catalog_has_no_fuzzy_entries():
    """Given the English catalog (empty msgstr shows the English source), then nothing is marked fuzzy."""
    path = catalog_path("en")
    assert path.exists(), f"{path} is missing: {HOW_TO_FIX}"
    fuzzy = [describe(e) for e in read_po(path) if "fuzzy" in e["flags"]]
    assert not fuzzy, "fuzzy entries in the English catalog:\n" + "\n".join(fuzzy)


def test_the_catalogs_list_exactly_the_messages_in_the_code(tmp_path, settings):
    """Given a copy of the project, when makemessages runs on it, then it finds the messages the
    committed catalogs already list: no new string is left out and no removed one lingers."""
    copy = tmp_path / "project"
    shutil.copytree(
        BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(*IGNORED, ".*", "__pycache__", "*.pyc", "*.mo"),
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    with chdir(copy):
        call_command(
            "makemessages",
            locale=list(LOCALES),
            ignore_patterns=IGNORED,
            no_obsolete=True,
            verbosity=0,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    report = []
    for locale in LOCALES:
        committed = messages(catalog_path(locale))
        current = messages(catalog_path(locale, copy))
        for key in sorted(set(current) - set(committed), key=str):
            report.append(
                f"locale/{locale}: new in the code, missing from the catalog: {describe(current[key])}"
            )
        for key in sorted(set(committed) - set(current), key=str):
            report.append(f"locale/{locale}: no longer in the code: {describe(committed[key])}")
    assert not report, f"the catalogs are out of date ({HOW_TO_FIX}):\n" + "\n".join(report)


# -- pages in each language -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory):
    """The committed .po files compiled into a scratch directory (msgfmt --check-format must accept them)."""
    root = tmp_path_factory.mktemp("compiled")
    shutil.copytree(BASE_DIR / "locale", root / "locale", ignore=shutil.ignore_patterns("*.mo", ".*"))
    with override_settings(LOCALE_PATHS=[root / "locale"]), chdir(root):
        call_command("compilemessages", locale=list(LOCALES), verbosity=0, stdout=io.StringIO())
    return root / "locale"


@pytest.mark.parametrize(
    ("language", "heading", "button", "absent"),
    [
        ("zh-hans", "客户", "新建客户", "New customer"),
        ("en", "Customers", "New customer", "新建客户"),
    ],
)
def test_the_customer_list_speaks_the_users_language(
    org, login, settings, compiled_locale, language, heading, button, absent
):
    """Given a sales rep who chose a language, when they open the customer list, then its heading and
    buttons are in that language only."""
    settings.LOCALE_PATHS = [compiled_locale]
    user_set_language(user=org.rep_a, language=language)

    response = login(org.rep_a).get(reverse("customers:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert re.search(rf"<h1[^>]*>\s*{heading}\s*</h1>", html), f"no <h1>{heading}</h1> on the page"
    assert button in html
    assert absent not in html
