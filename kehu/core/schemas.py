"""Building blocks every domain's API schemas share: bounded ids, choice types and NUL-free input."""

import datetime
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from django.db import models
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from kehu.core.exceptions import NotFound, ValidationFailed

T = TypeVar("T")

# Ids are 64-bit in every database we support; a larger number can only be a typo or a probe.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Field(ge=1, le=200)]


def invalid(message) -> PydanticCustomError:
    """A validation error whose message is shown as is (a ValueError would be prefixed "Value error, ")."""
    return PydanticCustomError("invalid", str(message))


# Year 1 or 9999 in one time zone is out of range in another; no CRM date lies outside these.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def _plausible(value):
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise invalid(_("Enter a date between 1900 and 2999."))
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]  # naive datetimes are refused: whose clock?
Day = Annotated[datetime.date, AfterValidator(_plausible)]


def choice(choices: type[models.Choices]) -> Any:
    """A `Literal` of a TextChoices' values: inlined as an enum in OpenAPI, refused with 422 when unknown.

    Inlined rather than an Enum class because several models share choice names (Status, Kind)."""
    return Literal[tuple(choices.values)]


def _reject_nul(value):
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(_("Text must not contain NUL characters."))
    elif isinstance(value, list | tuple | set):
        for item in value:
            _reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    return value


class InputSchema(Schema):
    """Base of every request schema. PostgreSQL cannot store NUL characters, so they are refused up front."""

    @field_validator("*", mode="after")
    @classmethod
    def reject_nul_characters(cls, value):
        return _reject_nul(value)


class QuerySchema(InputSchema):
    """Base of query-string filters. `?status=` from a form means "any", so an empty value counts as absent."""

    @field_validator("*", mode="before")
    @classmethod
    def blank_means_default(cls, value, info: ValidationInfo):
        field = cls.model_fields[info.field_name]
        if value == "" and not field.is_required():
            return field.get_default(call_default_factory=True)
        return value


def referenced(lookup: Callable[[], T | None], *, field: str) -> T:
    """Fetch a record the request body names by id, through a scoped selector. One the actor may not see is
    an error on that field (422), not a missing URL (404)."""
    try:
        found = lookup()
    except NotFound:
        found = None
    if found is None:
        raise ValidationFailed(fields={field: _("Not found.")})
    return found


class UserRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class UnitRef(Schema):
    id: int
    name: str


# --- error responses (documented in OpenAPI; produced by the handlers in config/api.py) ----------------------------


class ErrorOut(Schema):
    detail: str
    fields: dict[str, str] | None = Field(
        None, description="Field name (e.g. `name`, `custom.budget`) → message."
    )


class ConflictOut(ErrorOut):
    """409: a stale `version` (then `changes` and `current_version`) or a duplicate customer (then `existing_*`)."""

    changes: dict[str, dict[str, str]] | None = Field(None, description="Field → {label, then, now}.")
    current_version: int | None = None
    existing_id: int | None = None
    existing_name: str | None = None
    existing_owner: str | None = None
    matched_on: list[str] | None = Field(None, description="Which of name, phone, email matched.")


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
CONFLICT_ERRORS = {**ERRORS, 409: ConflictOut}
