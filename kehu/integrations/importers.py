"""What an import can write into, and how a file's columns are matched to its fields.

An importer names its columns (with the header spellings people use for them) and turns one row of cleaned
text into one saved record through the domain's services, raising an `ApplicationError` to reject the row.
The job runner (`services.import_run`) does the rest: batches, resuming, counting, the error report.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translatable string
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: object = ""


@dataclass
class Importer:
    kind: str
    label: object
    columns: Callable[[], list[Column]]
    prepare: Callable  # (job, actor) -> a context passed to every row
    import_row: (
        Callable | None
    )  # (context, values: dict[str, str], row_number) -> CREATED | UPDATED | UNCHANGED
    options_form: type  # a form class taking `actor=`, whose options() is stored on the job
    # Importers that take a whole batch at once (set-based, for files of millions of rows) give these instead
    # of `import_row`: open_rows(job, path) -> (estimated rows, iterator of (row number, cells)), and
    # run_batch(context, rows) -> an outcome with `counts` and `rejected` (row, column, reason, cells).
    run_batch: Callable | None = None
    open_rows: Callable | None = None
    batch_rows: Callable[[], int] | None = None  # rows per transaction; None: the runner's default
    on_upload: Callable | None = None  # (job, table) -> None: check the file, add options; before any mapping
    describe: Callable | None = None  # (job) -> what the file was recognised as, for the job's page
    on_done: Callable | None = None  # (job) -> None: after a finished run that wrote something

    @property
    def needs_mapping(self) -> bool:
        return bool(self.columns())


_registry: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    _registry[importer.kind] = importer


def get(kind: str) -> Importer:
    try:
        return _registry[kind]
    except KeyError:
        raise ValidationFailed(fields={"kind": _("Unknown kind of import.")}) from None


def clean_options(importer: Importer, actor, raw: dict) -> dict:
    """Validate a job's options sent by the API or the command line with the same form the page uses."""
    form = importer.options_form(raw, actor=actor)
    if not form.is_valid():
        raise ValidationFailed(fields={name: " ".join(errors) for name, errors in form.errors.items()})
    return form.options()


def describe_file(job) -> str:
    importer = _registry.get(job.kind)
    return str(importer.describe(job)) if importer and importer.describe else ""


def label_of(kind: str) -> str:
    importer = _registry.get(kind)
    return str(importer.label) if importer else kind


def kinds() -> list[Importer]:
    return list(_registry.values())


_NOISE = re.compile(r"[\s*:：_\-()（）\[\]【】/.]+")


def header_key(text: str) -> str:
    """Headers compare equal when they differ only in width, case, spaces, marks like * and brackets."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


def spellings(column: Column) -> set[str]:
    names = {column.key, *column.aliases}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.add(str(column.label))
    return {header_key(n) for n in names if n}


def guess_mapping(columns: list[Column], headers: list[str]) -> list[str]:
    """For each header, the column key it names (or ""); each key is used at most once, first header wins."""
    lookup: dict[str, str] = {}
    for column in columns:
        for spelling in spellings(column):
            lookup.setdefault(spelling, column.key)
    used: set[str] = set()
    mapping = []
    for header in headers:
        key = lookup.get(header_key(header), "")
        if key in used:
            key = ""
        used.add(key)
        mapping.append(key)
    return mapping


def check_mapping(columns: list[Column], headers: list[str], mapping: list[str]) -> list[str]:
    """Validate a mapping chosen by a person; returns it normalised to one entry per header."""
    known = {c.key for c in columns}
    mapping = [(m or "").strip() for m in mapping][: len(headers)]
    mapping.extend([""] * (len(headers) - len(mapping)))
    errors = {}
    seen: dict[str, int] = {}
    for index, key in enumerate(mapping):
        if not key:
            continue
        if key not in known:
            errors[f"mapping.{index}"] = _("Unknown field “%(key)s”.") % {"key": key}
        elif key in seen:
            errors[f"mapping.{index}"] = _(
                "“%(header)s” and “%(other)s” are both mapped to the same field."
            ) % {
                "header": headers[index],
                "other": headers[seen[key]],
            }
        seen.setdefault(key, index)
    missing = [str(c.label) for c in columns if c.required and c.key not in seen]
    if missing:
        errors["mapping"] = _("Map a column to: %(fields)s.") % {"fields": ", ".join(missing)}
    if errors:
        raise ValidationFailed(_("Check the column mapping."), fields=errors)
    return mapping


def row_values(mapping: list[str], cells: list[str]) -> dict[str, str]:
    return {key: cells[i] for i, key in enumerate(mapping) if key and i < len(cells) and cells[i] != ""}


def describe_error(exc, labels: dict[str, str]) -> str:
    """One line a person can act on: the service's message, or each field's label and message."""
    if not exc.fields:
        return str(exc.message)
    parts = []
    for name, message in exc.fields.items():
        label = labels.get(name) or labels.get(name.split(".")[-1]) or name
        parts.append(_("%(field)s: %(message)s") % {"field": label, "message": message})
    return _("; ").join(parts)
