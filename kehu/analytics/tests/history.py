"""Completed orders written straight to the table for analytics tests, with the buyer figures kept true."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from kehu.sales import buyer_stats
from kehu.sales.models import Order

NOW = timezone.now().replace(microsecond=0)
NUMBERS = count(1)


class Orders:
    def __init__(self, org):
        self.org = org

    def add(
        self,
        customer,
        days_ago: float,
        paid: str,
        *,
        shop=None,
        status=Order.Status.COMPLETED,
        refunded="0",
        at=None,
    ):
        """A completed order `days_ago` before NOW (or at `at`) paid `paid`; returns it."""
        at = at or NOW - timedelta(days=days_ago)
        order = Order.objects.create(
            channel=Order.Channel.TAOBAO if shop else Order.Channel.B2B,
            number=f"T{next(NUMBERS):06d}",
            customer=customer,
            owner=customer.owner,
            org_unit=customer.org_unit,
            shop=shop,
            status=status,
            ordered_at=at,
            paid_at=at,
            paid_amount=Decimal(paid),
            refunded_amount=Decimal(refunded),
        )
        buyer_stats.refresh([customer.pk])
        return order
