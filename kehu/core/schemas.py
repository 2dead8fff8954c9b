"""Building blocks every domain's API schemas share: bounded ids, choice types and NUL-free input."""

from typing import Annotated, Any, Literal

from django.db import models
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator

# Ids are 64-bit in every database we support; a larger number can only be a typo or a probe.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Field(ge=1, le=200)]


def choice(choices: type[models.Choices]) -> Any:
    """A `Literal` of a TextChoices' values: inlined as an enum in OpenAPI, refused with 422 when unknown.

    Inlined rather than an Enum class because several models share choice names (Status, Kind)."""
    return Literal[tuple(choices.values)]


def _reject_nul(value):
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(_("Text must not contain NUL characters."))
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


class UserRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class UnitRef(Schema):
    id: int
    name: str
