import datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.schemas import InputSchema, Limit, UserRef


class ImportJobOut(Schema):
    id: int
    kind: str
    filename: str
    file_format: str
    encoding: str
    size: int
    status: Literal["uploaded", "queued", "running", "done", "failed", "cancelled"]
    dry_run: bool
    headers: list[str] = Field(description="The file's column names, trimmed.")
    mapping: list[str] = Field(description='For each header, the field it fills ("" = not imported).')
    options: dict
    total_rows: int | None
    processed_rows: int
    created_count: int
    updated_count: int
    unchanged_count: int
    rejected_count: int
    error: str
    created_by: UserRef
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class ImportPage(Schema):
    items: list[ImportJobOut]
    next_cursor: str | None


class ImportColumnOut(Schema):
    key: str
    label: str
    required: bool


class ImportStartIn(InputSchema):
    mapping: list[str] | None = Field(
        None, max_length=500, description="Field key per header; omit to keep the guessed mapping."
    )
    owner: str = Field(
        "", max_length=40, description='"" (yourself), "user:<id>" or "pool:<org unit id>" for new customers.'
    )
    on_match: Literal["update", "reject"] = "update"
    tags: list[str] = Field(default_factory=list, max_length=20)
    dry_run: bool = False


class RejectionOut(Schema):
    row_number: int
    message: str
    values: list[str]


class RejectionQuery(InputSchema):
    after_row: int = Field(0, ge=0, le=2**31 - 1)
    limit: Limit = 100
