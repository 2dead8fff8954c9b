"""Mail merge: the variables a template may use, their values for a batch of customers, and the rendered e-mail.

A variable is written `{{name}}` (spaces inside the braces allowed). The values are read for a whole batch at
once: the customer's name, their membership tier and points, their last product, and what the mailing fixed on
the message when it was queued (a coupon code, a survey link). An e-mail's body is plain text: blank lines part
paragraphs, web addresses become links that go through Kehu's click counter, `{{image:12}}` shows an image of the
material library; Kehu adds the unsubscribe footer and the open-tracking pixel.
"""

import re
from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from kehu.customers.models import Customer
from kehu.sales.models import OrderLine

VARIABLE = re.compile(r"\{\{\s*([a-z_]+)(?::(\d+))?\s*\}\}")
URL = re.compile(r"https?://[^\s<>\"'，。）)]+")
CLICK_SALT = "kehu.marketing.click"
MARKETING_SMS = "marketing"  # the core.sms purposes of marketing (no variables) and care messages
CARE_SMS = "care"
MATERIAL_SALT = "kehu.marketing.material"

VARIABLES = {
    "name": gettext_lazy("Customer name"),
    "tier": gettext_lazy("Membership tier"),
    "points": gettext_lazy("Points balance"),
    "points_expiring": gettext_lazy("Points about to expire"),
    "last_product": gettext_lazy("Last product bought"),
    "coupon_code": gettext_lazy("Coupon code"),
    "survey_link": gettext_lazy("Survey link"),
    "unsubscribe_link": gettext_lazy("Unsubscribe link"),
    "image": gettext_lazy("Image from the material library ({{image:<number>}})"),
}
SMS_VARIABLES = ("name", "tier", "points", "points_expiring", "coupon_code", "survey_link")


def variables_used(*texts: str) -> set[str]:
    return {match.group(1) for text in texts for match in VARIABLE.finditer(text or "")}


def unknown_variables(*texts: str) -> list[str]:
    return sorted(variables_used(*texts) - set(VARIABLES))


def image_ids(*texts: str) -> set[int]:
    return {
        int(match.group(2))
        for text in texts
        for match in VARIABLE.finditer(text or "")
        if match.group(1) == "image" and match.group(2)
    }


# --- values -------------------------------------------------------------------------------------------------------


def values_for(customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The merge values of each customer, read in a few queries for the whole batch."""
    ids = list(customer_ids)
    last_title = Subquery(
        OrderLine.objects.filter(order__customer_id=OuterRef("pk"), order__deleted_at__isnull=True)
        .order_by("-order__ordered_at", "-id")
        .values("title")[:1]
    )
    rows = (
        Customer.objects.filter(pk__in=ids)
        .annotate(last_product=last_title)
        .values_list("pk", "name", "last_product")
    )
    values = {pk: {"name": name, "last_product": product or ""} for pk, name, product in rows}
    for pk, extra in loyalty_values(ids).items():
        values.setdefault(pk, {}).update(extra)
    return values


def loyalty_values(customer_ids: list[int]) -> dict[int, dict[str, str]]:
    from kehu.loyalty import selectors as loyalty

    return {
        pk: {
            "tier": str(row.get("tier") or ""),
            "points": str(row.get("points") or 0),
            "points_expiring": str(row.get("points_expiring") or 0),
        }
        for pk, row in loyalty.merge_values(customer_ids).items()
    }


# --- rendering ----------------------------------------------------------------------------------------------------


def fill(text: str, values: dict[str, str], images: dict[int, str] | None = None, html: bool = False) -> str:
    def value(match: re.Match) -> str:
        name, number = match.group(1), match.group(2)
        if name == "image":
            url = (images or {}).get(int(number or 0), "")
            return f'<img src="{escape(url)}" alt="" style="max-width:100%">' if html and url else ""
        found = str(values.get(name, ""))
        return escape(found) if html else found

    return VARIABLE.sub(value, text or "")


def site_url(path: str) -> str:
    return settings.KEHU["SITE_URL"].rstrip("/") + path


def click_url(token: str, url: str) -> str:
    signed = signing.Signer(salt=CLICK_SALT).sign(url)
    return site_url(reverse("marketing_public:click", args=[token])) + "?" + urlencode({"to": signed})


def click_target(signed: str) -> str | None:
    try:
        return signing.Signer(salt=CLICK_SALT).unsign(signed)
    except signing.BadSignature:
        return None


def unsubscribe_url(token: str) -> str:
    return site_url(reverse("marketing_public:unsubscribe", args=[token]))


def material_url(material) -> str:
    """A public address for an image or document of the library (mail clients fetch images without a login)."""
    signed = signing.Signer(salt=MATERIAL_SALT).sign(str(material.pk))
    return site_url(reverse("marketing_public:material", args=[signed]))


def material_for(signed: str) -> int | None:
    try:
        return int(signing.Signer(salt=MATERIAL_SALT).unsign(signed))
    except (signing.BadSignature, ValueError):
        return None


def pixel_url(token: str) -> str:
    return site_url(reverse("marketing_public:open", args=[token]))


def _html_paragraphs(text: str, token: str | None) -> str:
    """Plain text (already merged and escaped) → paragraphs with tracked links."""

    def link(match: re.Match) -> str:
        url = match.group(0).replace("&amp;", "&")
        href = click_url(token, url) if token else url
        return f'<a href="{escape(href)}">{match.group(0)}</a>'

    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    rendered = []
    for part in paragraphs:
        if part.startswith("<img ") and part.endswith(">") and "\n" not in part:
            rendered.append(f"<p>{part}</p>")
            continue
        pieces = re.split(r"(<img [^>]+>)", part)
        rendered.append(
            "<p>"
            + "".join(
                piece if piece.startswith("<img ") else URL.sub(link, piece) for piece in pieces
            ).replace("\n", "<br>")
            + "</p>"
        )
    return "\n".join(rendered)


def email_language(template) -> str:
    return "zh-hans" if (template.body_zh or "").strip() else "en"


def render_email(
    template, values: dict[str, str], *, token: str | None, images: dict[int, str] | None = None
) -> tuple[str, str, str]:
    """(subject, text, html) of a template for one recipient. Without a token (a preview) links are not tracked
    and the footer's unsubscribe link points nowhere."""
    language = email_language(template)
    zh = language == "zh-hans"
    subject_text = (
        (template.subject_zh if zh else template.subject_en) or template.subject_zh or template.subject_en
    )
    body = (template.body_zh if zh else template.body_en) or ""
    values = {**values, "unsubscribe_link": unsubscribe_url(token) if token else "#"}
    subject = " ".join(fill(subject_text, values).split())
    text = fill(body, values)
    body_html = _html_paragraphs(fill(body, values, images, html=True), token)
    with override(language):
        footer = _("You receive this because you agreed to hear from us. Unsubscribe: %(url)s") % {
            "url": values["unsubscribe_link"]
        }
        footer_html = _(
            'You receive this because you agreed to hear from us. <a href="%(url)s">Unsubscribe</a>'
        ) % {"url": escape(values["unsubscribe_link"])}
    text = f"{text.rstrip()}\n\n--\n{footer}\n"
    pixel = f'<img src="{escape(pixel_url(token))}" width="1" height="1" alt="">' if token else ""
    html = (
        f'<!doctype html><html lang="{"zh-CN" if zh else "en"}"><body style="font-family:sans-serif;line-height:1.6">'
        f'{body_html}<hr><p style="color:#777;font-size:12px">{footer_html}</p>{pixel}</body></html>'
    )
    return subject, text, html


def sms_params(values: dict[str, str]) -> dict[str, str]:
    return {name: values.get(name, "") for name in SMS_VARIABLES}
