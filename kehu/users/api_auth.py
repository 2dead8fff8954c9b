from django.utils import translation
from ninja.security import HttpBearer

from kehu.users.services import api_token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kehu_…` — a hashed, revocable personal token."""

    def authenticate(self, request, token):
        user = api_token_authenticate(secret=token)
        if user is not None:
            request.user = user
            if user.language:  # the session middleware could not know who this is; answer in their language
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        return user
