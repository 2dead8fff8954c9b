"""Amounts keep the currency they were entered in; totals are converted into the company currency with the
manual exchange-rate table, using the rate valid on the date that matters (close date, payment date …)."""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

CENT = Decimal("0.01")


def company_currency() -> str:
    return settings.KEHU["CURRENCY"]


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Rates:
    """Every exchange rate, read once; `convert()` picks the rate valid on a date."""

    table: dict[str, tuple[list[date], list[Decimal]]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    home: str = field(default_factory=company_currency)

    @classmethod
    def load(cls) -> "Rates":
        from kehu.sales.models import ExchangeRate

        table: dict[str, tuple[list[date], list[Decimal]]] = {}
        for currency, valid_from, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list(
            "currency", "valid_from", "rate"
        ):
            days, rates = table.setdefault(currency, ([], []))
            days.append(valid_from)
            rates.append(rate)
        return cls(table=table)

    def rate(self, currency: str, on: date | None = None) -> Decimal | None:
        if currency == self.home:
            return Decimal(1)
        days, rates = self.table.get(currency, ([], []))
        index = bisect_right(days, on or timezone.localdate()) - 1
        return rates[index] if index >= 0 else None

    def convert(self, amount: Decimal, currency: str, on: date | None = None) -> Decimal:
        """`amount` in the company currency, to the cent. A currency without a rate valid on that date counts
        as 0 and is remembered in `missing`, so a page can say which totals are incomplete."""
        rate = self.rate(currency, on)
        if rate is None:
            self.missing.add(currency)
            return Decimal(0)
        return to_cents(amount * rate)
