"""Profile (language, API tokens) and staff handover through the pages."""

import pytest
from django.test import Client

from kehu.customers.models import Customer
from kehu.users.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_stored_hashed(org, login):
    client = login(org.rep_a)
    html = client.post("/profile/", {"name": "ERP 同步"}).content.decode()
    token = ApiToken.objects.get(user=org.rep_a)
    secret = html.split('data-testid="new-token"')[1].split("<code")[1].split(">")[1].split("<")[0].strip()
    assert secret.startswith("kehu_") and secret not in token.key_hash
    again = client.get("/profile/").content.decode()
    assert secret not in again and token.prefix in again
    api = Client()  # no session: the token alone authenticates
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["username"] == "rep_a"
    client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_the_language_choice_is_saved_on_the_user(org, login):
    client = login(org.rep_a)
    client.post("/language/", {"language": "en", "next": "/customers/"})
    org.rep_a.refresh_from_db()
    assert org.rep_a.language == "en"
    assert "Customers" in client.get("/customers/").content.decode()


def test_a_unit_admin_deactivates_a_rep_with_a_successor(org, login, make_customer):
    for i in range(3):
        make_customer(org.rep_a, name=f"交接客户{i}")
    client = login(org.unit_admin)
    assert "rep_a" in client.get("/staff/").content.decode()
    refused = client.post(f"/staff/{org.rep_a.pk}/deactivate/", {})
    assert refused.status_code == 200 and Customer.objects.filter(owner=org.rep_a).count() == 3
    client.post(f"/staff/{org.rep_a.pk}/deactivate/", {"successor": org.rep_a2.pk})
    org.rep_a.refresh_from_db()
    assert not org.rep_a.is_active
    assert Customer.objects.filter(owner=org.rep_a2).count() == 3
    anonymous = Client()
    anonymous.post("/login/", {"username": "rep_a", "password": org.password})
    assert "_auth_user_id" not in anonymous.session


def test_a_unit_admin_cannot_manage_staff_outside_their_subtree(org, login):
    client = login(org.unit_admin)
    assert "rep_c" not in client.get("/staff/").content.decode()
    assert client.get(f"/staff/{org.rep_c.pk}/deactivate/").status_code == 404


def test_the_api_answers_in_the_token_users_language(org):
    """Given users who chose English and Chinese, when each calls the API with a token, then error messages
    come in the language they chose, whatever the browser default."""
    from django.utils import translation

    from kehu.users.services import api_token_create, user_set_language

    user_set_language(user=org.rep_a, language="en")
    user_set_language(user=org.rep_b, language="zh-hans")
    details = {}
    for user in (org.rep_a, org.rep_b):
        _token, secret = api_token_create(actor=user, name="lang")
        response = Client().get("/api/v1/customers/999999", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 404
        details[user.username] = response.json()["detail"]
    with translation.override("zh-hans"):
        chinese = translation.gettext("Not found.")
    assert details["rep_a"] == "Not found."
    assert details["rep_b"] == chinese != "Not found."
