"""No input produces a 500: schemathesis generates requests for every operation of the committed schema.

Runs in-process against the WSGI app with a sales rep's token (a system admin too, for the admin-only paths),
checking only that the server never errors: validation problems must be 4xx JSON naming the field.
"""

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import openapi
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from kehu.users.services import api_token_create

schema = openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    """Requests made in-process end with Django closing "old" connections, which would close the test's own
    transaction on PostgreSQL; the test client avoids this the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(org, make_customer):
    make_customer(org.rep_a, name="模糊测试客户", phone="13800001111")
    _token, secret = api_token_create(actor=org.rep_a, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_makes_the_server_fail(case, auth_headers):
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=[not_a_server_error])
