import json, time
import pytest
from django.test import Client
from kehu.customers.models import CustomField
from kehu.users.services import api_token_create


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999999999999999", "1e999999999", "-1e999999999", "1E+5000"])
@pytest.mark.parametrize("kind", ["number", "money"])
def test_probe_custom_numbers(org, kind, value):
    CustomField.objects.create(entity="customer", key="n", label_zh="n", label_en="n", field_type=kind)
    _t, secret = api_token_create(actor=org.rep_a, name="t")
    start = time.monotonic()
    r = Client().post("/api/v1/customers", json.dumps({"name": "x" + value, "custom": {"n": value}}), content_type="application/json", headers={"Authorization": f"Bearer {secret}"})
    print(kind, value, r.status_code, r.content[:200], time.monotonic() - start)
    assert r.status_code < 500


@pytest.mark.parametrize("value", ["1.e400", "99999999999999999999999", "1.5", "-0.0", "1e5", "inf", ".5"])
def test_probe_custom_filters(org, value):
    CustomField.objects.create(entity="customer", key="n", label_zh="n", label_en="n", field_type="number")
    _t, secret = api_token_create(actor=org.rep_a, name="t")
    r = Client().get("/api/v1/customers", {"custom.n": value}, headers={"Authorization": f"Bearer {secret}"})
    print(value, r.status_code, r.content[:200])
    assert r.status_code < 500
