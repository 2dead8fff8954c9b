from ninja.security import HttpBearer

from kehu.users.services import api_token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kehu_…` — a hashed, revocable personal token."""

    def authenticate(self, request, token):
        user = api_token_authenticate(secret=token)
        if user is not None:
            request.user = user
        return user
