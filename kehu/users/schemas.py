"""API schemas for the signed-in user and their API tokens."""

import datetime

from ninja import Field, Schema

from kehu.core.schemas import InputSchema


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    language: str
    roles: list[str] = Field(description="Roles held in any org unit (system_admin, manager, sales_rep …).")


class TokenIn(InputSchema):
    name: str = Field(..., max_length=100, description="What the token is for, e.g. the script that uses it.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class TokenCreatedOut(TokenOut):
    secret: str = Field(description="Send as `Authorization: Bearer <secret>`. Shown only this once.")
