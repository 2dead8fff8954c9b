"""Amounts keep the currency they were entered in; totals are converted into the company currency with the
manual exchange-rate table, using the rate valid on the date that matters (close date, payment date …)."""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

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


def cny_in_words(amount: Decimal) -> str:
    """The amount in capital numerals as written on Chinese invoices and contracts (大写金额):
    12345.67 → 壹万贰仟叁佰肆拾伍元陆角柒分, 100 → 壹佰元整, 10.05 → 壹拾元零伍分, 0.5 → 伍角."""
    digits, places = "零壹贰叁肆伍陆柒捌玖", ("", "拾", "佰", "仟")

    def section(n: int) -> str:
        """0 < n < 10,000; a 零 stands for any run of zeros between two digits."""
        text, gap = "", False
        for power in (3, 2, 1, 0):
            digit = n // 10**power % 10
            if digit == 0:
                gap = bool(text)
                continue
            text += ("零" if gap else "") + digits[digit] + places[power]
            gap = False
        return text

    def integer(n: int) -> str:
        """n > 0: sections of four digits joined by 亿 and 万, with 零 where a lower section starts with zeros."""
        for size, name in ((10**8, "亿"), (10**4, "万")):
            if n >= size:
                high, low = divmod(n, size)
                text = integer(high) + name
                if low:
                    text += ("零" if low < size // 10 else "") + integer(low)
                return text
        return section(n)

    cents = int(to_cents(Decimal(amount)).scaleb(2))
    sign, cents = ("负" if cents < 0 else ""), abs(cents)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if not yuan and not rest:
        return "零元整"
    text = integer(yuan) + "元" if yuan else ""
    if not rest:
        return sign + text + "整"
    if jiao:
        text += digits[jiao] + "角"
    if fen:
        text += ("零" if yuan and not jiao else "") + digits[fen] + "分"
    return sign + text


def parse_amount(raw: str) -> tuple[Decimal | None, str]:
    """Typed text → (amount, error), thousands separators (also Chinese commas) allowed; empty text is (None, "")."""
    text = (raw or "").strip().replace(",", "").replace("，", "")
    if not text:
        return None, ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, gettext("Enter a number.")
    if not value.is_finite():
        return None, gettext("Enter a number.")
    return value, ""
