"""The REST API for the signed-in user and API tokens, and bearer-token authentication itself."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.users.models import ApiToken
from kehu.users.services import api_token_create, api_token_revoke, user_deactivate

API = "/api/v1"


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def token_of(db):
    """token_of(user) → (token, secret)."""

    def make(user, name="脚本"):
        return api_token_create(actor=user, name=name)

    return make


# --- authentication -----------------------------------------------------------------------------------------------


def test_valid_token_authenticates(org, token_of):
    """Given a token, when it calls /me, then the token's user answers with their roles."""
    _token, secret = token_of(org.rep_a)

    response = Client().get(f"{API}/me", headers=bearer(secret))

    assert response.status_code == 200
    assert response.json() == {
        "id": org.rep_a.pk,
        "username": "rep_a",
        "display_name": "李销售",
        "email": "rep_a@kehu.test",
        "language": "",
        "roles": ["sales_rep"],
    }


def test_token_use_is_recorded(org, token_of):
    """Given an unused token, when it is used, then last_used_at is set (and not rewritten within a minute)."""
    token, secret = token_of(org.rep_a)
    assert token.last_used_at is None

    Client().get(f"{API}/me", headers=bearer(secret))
    token.refresh_from_db()
    first_use = token.last_used_at
    Client().get(f"{API}/me", headers=bearer(secret))
    token.refresh_from_db()

    assert first_use is not None
    assert timezone.now() - first_use < timedelta(seconds=10)
    assert token.last_used_at == first_use


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kehu_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Token kehu_abc",
        "Bearer " + "x" * 5000,
        "Bearer kehu_\u4e2d\u6587",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_bad_tokens_are_401(org, header):
    """Given a made-up or malformed Authorization header, when calling the API, then 401."""
    response = Client().get(f"{API}/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["detail"]


def test_revoked_token_is_401(org, token_of):
    """Given a token that worked, when it is revoked, then it is refused with 401."""
    token, secret = token_of(org.rep_a)
    assert Client().get(f"{API}/me", headers=bearer(secret)).status_code == 200

    api_token_revoke(actor=org.rep_a, token_id=token.pk)
    response = Client().get(f"{API}/me", headers=bearer(secret))

    assert response.status_code == 401


def test_deactivated_users_token_is_401(org, token_of):
    """Given a rep's token, when the rep is deactivated, then the token is refused with 401."""
    _token, secret = token_of(org.rep_a)

    user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    response = Client().get(f"{API}/me", headers=bearer(secret))

    assert response.status_code == 401


def test_inactive_user_with_a_live_token_is_401(org, token_of):
    """Given a token whose user was switched off without revoking it, when used, then 401."""
    _token, secret = token_of(org.rep_b)
    org.rep_b.is_active = False
    org.rep_b.save(update_fields=["is_active"])

    response = Client().get(f"{API}/customers", headers=bearer(secret))

    assert response.status_code == 401


def test_session_works_for_me(org, login):
    """Given a browser session, when it GETs /me, then the session user answers."""
    response = login(org.admin).get(f"{API}/me")

    assert response.status_code == 200
    assert response.json()["roles"] == ["system_admin"]


def test_session_of_a_deactivated_user_is_401(org, login):
    """Given a logged-in user who is then deactivated, when the session calls the API, then 401."""
    client = login(org.rep_b)
    user_deactivate(actor=org.admin, user=org.rep_b, successor=org.rep_a)

    response = client.get(f"{API}/me")

    assert response.status_code == 401


# --- tokens -------------------------------------------------------------------------------------------------------


def test_create_token_shows_the_secret_once(org, token_of):
    """Given a user, when they create a token, then 201 with a secret that works; the list never shows it."""
    _token, secret = token_of(org.rep_a)
    client = Client()

    created = client.post(
        f"{API}/tokens",
        json.dumps({"name": "ERP 同步"}),
        content_type="application/json",
        headers=bearer(secret),
    )
    listed = client.get(f"{API}/tokens", headers=bearer(secret))

    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "ERP 同步"
    assert body["secret"].startswith("kehu_")
    assert body["secret"].startswith(body["prefix"])
    assert ApiToken.objects.get(pk=body["id"]).key_hash != body["secret"]
    assert client.get(f"{API}/me", headers=bearer(body["secret"])).json()["id"] == org.rep_a.pk
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == ["ERP 同步", "脚本"]
    assert all("secret" not in t for t in listed.json())
    assert body["secret"] not in listed.content.decode()


@pytest.mark.parametrize(
    ("body", "field"), [({}, "name"), ({"name": "   "}, "name"), ({"name": "x" * 101}, "name")]
)
def test_token_needs_a_name(org, token_of, body, field):
    """Given no usable name, when creating a token, then 422 names the field."""
    _token, secret = token_of(org.rep_a)

    response = Client().post(
        f"{API}/tokens", json.dumps(body), content_type="application/json", headers=bearer(secret)
    )

    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_revoke_own_token(org, token_of):
    """Given two tokens, when one revokes the other, then 204 and the revoked one gets 401."""
    _token, secret = token_of(org.rep_a)
    other, other_secret = token_of(org.rep_a, name="旧脚本")
    client = Client()

    response = client.delete(f"{API}/tokens/{other.pk}", headers=bearer(secret))

    assert response.status_code == 204
    assert client.get(f"{API}/me", headers=bearer(other_secret)).status_code == 401
    listed = {t["id"]: t for t in client.get(f"{API}/tokens", headers=bearer(secret)).json()}
    assert listed[other.pk]["revoked_at"] is not None


def test_cannot_see_or_revoke_someone_elses_token(org, token_of):
    """Given rep_b's token, when rep_a lists tokens or revokes it, then it is absent and 404."""
    _token, secret = token_of(org.rep_a)
    theirs, their_secret = token_of(org.rep_b)
    client = Client()

    listed = client.get(f"{API}/tokens", headers=bearer(secret)).json()
    response = client.delete(f"{API}/tokens/{theirs.pk}", headers=bearer(secret))

    assert theirs.pk not in {t["id"] for t in listed}
    assert response.status_code == 404
    assert client.get(f"{API}/me", headers=bearer(their_secret)).status_code == 200


@pytest.mark.parametrize("token_id", ["abc", "0", str(10**30)])
def test_bad_token_ids_are_client_errors(org, token_of, token_id):
    """Given a token id that is not a positive 64-bit number, when revoking, then 422 or 404."""
    _token, secret = token_of(org.rep_a)

    response = Client().delete(f"{API}/tokens/{token_id}", headers=bearer(secret))

    assert response.status_code in {404, 422}


def test_openapi_document_is_served(org, login):
    """Given the API, when its OpenAPI document is fetched, then every documented path is under /api/v1/."""
    response = login(org.rep_a).get(f"{API}/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/customers" in paths
    assert "/api/v1/tasks/{task_id}/complete" in paths
