"""Fixtures for the service-desk tests: a lead and a second agent in team A, a customer, and the real SMTP
server of the activities tests."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from kehu.activities.tests.conftest import smtp  # noqa: F401 - a fixture
from kehu.users.models import Role
from kehu.users.services import api_token_create, membership_set, user_create

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def desk(org, make_customer):
    """team A's lead (manager) and a second agent; a customer owned by rep_c (North) with an e-mail address."""

    def person(username, name, unit, role):
        user = user_create(
            username=username, password=org.password, display_name=name, email=f"{username}@kehu.test"
        )
        membership_set(actor=None, user=user, unit=unit, role=role)
        return user

    org.lead_a = person("lead_a", "郑组长", org.team_a, Role.MANAGER)
    org.agent_a2 = person("agent_a2", "冯客服", org.team_a, Role.SERVICE_AGENT)
    org.customer = make_customer(org.rep_c, name="北京远航商贸有限公司", email="service@yuanhang.test")
    return org


@pytest.fixture
def api(client):
    """`api(user)(method, url, body)`: calls with that user's bearer token."""

    def as_user(user):
        _token, secret = api_token_create(actor=user, name="test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

        def call(method, url, body=None):
            if method == "get":
                return client.get(url, body or {}, **headers)
            return getattr(client, method)(url, data=body or {}, content_type="application/json", **headers)

        return call

    return as_user
