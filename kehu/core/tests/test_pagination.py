"""Keyset pagination: every row exactly once, in order, even when many rows share the sort key."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from kehu.core.exceptions import ValidationFailed
from kehu.core.pagination import _encode, keyset_page
from kehu.customers.models import Customer
from kehu.customers.selectors import SORTS, customer_list


@pytest.fixture
def tied_customers(org, make_customer):
    """Eleven customers whose update time, creation time and pinyin fall into three values each, so that
    page boundaries land inside runs of equal keys."""
    base = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    customers = [make_customer(org.admin, owner=org.rep_a) for _ in range(11)]
    for index, customer in enumerate(customers):
        Customer.objects.filter(pk=customer.pk).update(
            updated_at=base + timedelta(microseconds=[0, 500_000, 1][index % 3]),
            created_at=base - timedelta(days=index % 3),
            pinyin=["ceshi", "aaa", "bbb"][index % 3],
        )
    return [c.pk for c in customers]


def expected_order(sort: str) -> list[int]:
    rows = list(Customer.objects.values("id", "updated_at", "created_at", "pinyin"))
    keys = SORTS[sort]

    def key(row):
        return tuple(row[k.lstrip("-")] for k in keys)

    rows.sort(key=key, reverse=keys[0].startswith("-"))
    return [r["id"] for r in rows]


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("size", [1, 2, 4])
def test_keyset_walk_returns_every_customer_once_in_order(org, tied_customers, sort, size):
    """Given customers with ties on every sort key, when walking all pages of each sort, then each customer
    appears exactly once and in the order of the sort."""
    seen, cursor, pages = [], None, 0
    while True:
        page = customer_list(actor=org.admin, sort=sort, cursor=cursor, size=size)
        seen.extend(c.pk for c in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages < 50, "the walk does not end"

    assert sorted(seen) == sorted(tied_customers)
    assert seen == expected_order(sort)


def test_the_last_page_has_no_next_cursor(org, make_customer):
    """Given exactly one page of customers, when listing, then no next cursor is offered."""
    for _ in range(3):
        make_customer(org.admin, owner=org.rep_a)

    page = customer_list(actor=org.admin, size=3)

    assert len(page.items) == 3
    assert page.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"\xff\xfe not json").decode(),
        _encode([1]),
        _encode({"a": 1}),
        _encode(["2025-01-01", 5, 6]),
        _encode(["yesterday", 5]),
        _encode([{"t": "not a date"}, 5]),
        _encode([{"t": "2025-03-01T09:00:00+00:00"}, "seven"]),
        _encode([{"d": "1.5"}, 5]),
        _encode([{"d": "one"}, 5]),
        _encode([{"t": 5}, 5]),
    ],
)
def test_a_tampered_cursor_is_refused_as_invalid(org, make_customer, cursor):
    """Given a cursor that was not produced by the server, when listing with it, then the request is refused
    as a validation error on `cursor` (not a server error)."""
    make_customer(org.admin, owner=org.rep_a)

    with pytest.raises(ValidationFailed) as caught:
        customer_list(actor=org.admin, sort="updated", cursor=cursor, size=5)

    assert "cursor" in caught.value.fields


def test_keyset_page_handles_decimal_keys(org, make_customer):
    """Given rows ordered by a computed decimal key, when paging, then the decimal round-trips through the
    cursor."""
    from decimal import Decimal

    from django.db.models import DecimalField, Value

    ids = [make_customer(org.admin, owner=org.rep_a).pk for _ in range(3)]
    qs = Customer.objects.annotate(
        score=Value(Decimal("1.50"), output_field=DecimalField(max_digits=5, decimal_places=2))
    )

    first = keyset_page(qs, ordering=["score", "id"], cursor=None, size=2)
    second = keyset_page(qs, ordering=["score", "id"], cursor=first.next_cursor, size=2)

    assert "d" in json.loads(base64.urlsafe_b64decode(first.next_cursor + "=="))[0]
    assert [c.pk for c in first.items + second.items] == ids
