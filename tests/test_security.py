"""Security settings that are easy to lose in a refactor."""

import pytest
from django.contrib.auth.hashers import get_hasher, make_password
from django.test import Client, override_settings


def test_passwords_are_hashed_with_argon2():
    """Given the project settings, when a password is hashed, then argon2 is used."""
    from config import settings as project_settings

    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        assert get_hasher("default").algorithm == "argon2"
        assert make_password("s3cret-Password").startswith("argon2$")


@pytest.mark.django_db
def test_every_form_needs_a_csrf_token(org):
    """Given a logged-in user, when a form is posted without the CSRF token, then it is refused with 403."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.rep_a)
    response = client.post("/customers/new/", {"name": "无令牌公司"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_failed_logins_lock_the_account(org, settings):
    """Given the lockout limit, when a user name fails that many times, then even the right password is refused."""
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        response = client.post("/login/", {"username": "rep_a", "password": "wrong"})
        assert response.status_code in {200, 429}
    response = client.post("/login/", {"username": "rep_a", "password": org.password})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_wrong_password_shows_a_clear_message(org):
    response = Client().post("/login/", {"username": "rep_a", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Wrong user name or password." in response.content.decode()
