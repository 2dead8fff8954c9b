import datetime
from typing import Any

from ninja import Field, Schema

from kehu.core.schemas import InputSchema, UserRef, Version


class FieldOut(Schema):
    key: str
    label: str
    type: str = Field(description="text, number, date, choice or tags")
    ops: list[str]
    choices: list[tuple[str, str]] | None = Field(
        None, description="[value, label] for choice and tags fields."
    )


class RulesIn(InputSchema):
    rules: dict[str, Any] = Field(
        description='{"match": "all"|"any", "negate": false, "rules": [{"field", "op", "value"} or a group]}'
    )


class CountOut(Schema):
    count: int


class SegmentIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=5000)
    rules: dict[str, Any] = Field(default_factory=dict)


class SegmentPatch(InputSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=5000)
    rules: dict[str, Any] | None = None


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rules: dict[str, Any]
    owner: UserRef
    version: int
    updated_at: datetime.datetime


class SegmentDetailOut(SegmentOut):
    count: int = Field(description="The customers of the segment you see, now.")


class SnapshotOut(Schema):
    id: int
    taken_at: datetime.datetime
    taken_by: UserRef | None
    size: int
