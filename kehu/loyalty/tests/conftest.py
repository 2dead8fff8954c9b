"""Loyalty test helpers: buyers and their orders (written as an import would), at given moments."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.sales.models import Order

D = Decimal
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
_numbers = itertools.count(1)


def at(year, month, day, hour=12) -> datetime.datetime:
    """A moment in Shanghai (the project's time zone)."""
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _ladder(db):
    """The ladder the data migration seeds; a test elsewhere that flushed the database (transaction=True) took it
    away."""
    from kehu.loyalty.services.common import ladder_ensure

    ladder_ensure()


@pytest.fixture
def buyer(org, make_customer):
    return make_customer(org.rep_a, name="王小二", kind="individual", phone="13800001111")


@pytest.fixture
def place(org):
    """place(customer, paid, status="completed", refunded=0, when=None, number=None) → an order written directly,
    as the marketplace import writes them (no service recomputes anything)."""

    def make(customer, paid, *, status=Order.Status.COMPLETED, refunded="0", when=None, number=None, **extra):
        when = when or timezone.now() - datetime.timedelta(days=3)
        paid = D(str(paid))
        return Order.objects.create(
            channel=Order.Channel.TAOBAO,
            number=number or f"TB{next(_numbers):08d}",
            customer=customer,
            owner=customer.owner,
            org_unit=customer.org_unit,
            status=status,
            total_amount=D(str(extra.pop("total", paid))),
            paid_amount=paid,
            refunded_amount=D(str(refunded)),
            ordered_at=when,
            paid_at=when,
            completed_at=when if status == Order.Status.COMPLETED else None,
            **extra,
        )

    return make


def refund(order, amount) -> Order:
    """The platform's next export says this much was refunded (an import updates the order)."""
    order.refunded_amount = D(str(amount))
    order.save(update_fields=["refunded_amount", "updated_at"])
    return order
