"""The quote as a PDF a salesperson can send: letterhead, the lines, totals (in words for CNY), terms, a
signature and stamp area and page numbers, in the quote's own language whatever the reader's.

The document's labels come from `LABELS`, written out for both languages a quote can have: what a customer
receives must not change with the state of the interface translations. Product names, dates and amounts
follow the document's language too (`translation.override`)."""

import datetime
import io
import re
from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import translation
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kehu.sales.models import Quote
from kehu.sales.money import cny_in_words
from kehu.sales.selectors.quotes import quote_lines

FONT = "STSong-Light"  # an Adobe CID font every PDF reader has: Chinese and Latin, no font file to ship
MARGIN = 16 * mm

LABELS = {
    "zh-hans": {
        "title": "报价单",
        "number": "报价单号",
        "revision": "版本",
        "date": "报价日期",
        "valid_until": "有效期至",
        "currency": "币种",
        "to": "客户",
        "attention": "联系人",
        "subject": "项目",
        "no": "序号",
        "sku": "编号",
        "product": "产品名称",
        "quantity": "数量",
        "unit_price": "单价",
        "discount": "折扣%",
        "amount": "金额",
        "tax_rate": "税率",
        "subtotal": "小计（不含税）",
        "tax": "税额",
        "total": "合计（含税）",
        "in_words": "金额大写：人民币{words}",
        "terms": "条款",
        "notes": "备注",
        "seller": "报价方（盖章）",
        "buyer": "客户确认（盖章）",
        "signature": "签字：",
        "signed_on": "日期：",
        "phone": "电话",
        "email": "邮箱",
        "bank": "开户行及账号",
        "tax_id": "税号",
        "page": "第 {page} 页 / 共 {pages} 页",
        # ASCII minus: the built-in STSong-Light font has no U+2212.
        "prices_note": "单价不含税；金额 = 数量 × 单价 × (1 - 折扣)。",
    },
    "en": {
        "title": "QUOTATION",
        "number": "Quotation No.",
        "revision": "Revision",
        "date": "Date",
        "valid_until": "Valid until",
        "currency": "Currency",
        "to": "Customer",
        "attention": "Attention",
        "subject": "Subject",
        "no": "No.",
        "sku": "SKU",
        "product": "Product",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "discount": "Disc. %",
        "amount": "Amount",
        "tax_rate": "Tax",
        "subtotal": "Subtotal (excl. tax)",
        "tax": "Tax",
        "total": "Total (incl. tax)",
        "in_words": "Amount in words: RMB {words}",
        "terms": "Terms",
        "notes": "Notes",
        "seller": "For the seller (stamp)",
        "buyer": "Accepted by the customer (stamp)",
        "signature": "Signature:",
        "signed_on": "Date:",
        "phone": "Tel",
        "email": "E-mail",
        "bank": "Bank account",
        "tax_id": "Tax ID",
        "page": "Page {page} of {pages}",
        "prices_note": "Unit prices exclude tax; amount = quantity × unit price × (1 - discount).",
    },
}


def register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def money_text(value: Decimal) -> str:
    """12345.6 → "12,345.60"."""
    return f"{Decimal(value):,.2f}"


def _number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros or an exponent: 1000.000 → "1,000", 2.50 → "2.5"."""
    return f"{Decimal(value).normalize():,f}"


def _day(day: datetime.date, language: str) -> str:
    if language == Quote.Language.EN:
        return f"{day.day} {day:%b} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def company_letterhead() -> dict:
    """The letterhead: the root org unit's name and the address lines configured in settings.KEHU."""
    from kehu.users.models import OrgUnit

    root = OrgUnit.objects.filter(parent__isnull=True).order_by("path", "id").first()
    kehu = settings.KEHU
    return {
        "name": root.name if root is not None else str(getattr(settings, "SITE_NAME", "")),
        "address": kehu.get("COMPANY_ADDRESS", ""),
        "phone": kehu.get("COMPANY_PHONE", ""),
        "email": kehu.get("COMPANY_EMAIL", ""),
        "bank": kehu.get("COMPANY_BANK", ""),
        "tax_id": kehu.get("COMPANY_TAX_ID", ""),
    }


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12.5, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#555555")
        ),
        "company": ParagraphStyle("company", parent=base, fontSize=15, leading=19),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=2 * mm
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "heading": ParagraphStyle("heading", parent=base, fontSize=10, leading=14, spaceBefore=3 * mm),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cell_right": ParagraphStyle("cell_right", parent=base, fontSize=8.5, leading=11, alignment=TA_RIGHT),
    }


def _text(value) -> str:
    """User text for a Paragraph: markup escaped, line breaks kept."""
    return escape(str(value or "")).replace("\n", "<br/>")


def _canvas_maker(footer: Callable[[int, int], str], left: str):
    """A canvas that writes "page x of y" on every page once the number of pages is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _height = self._pagesize
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.HexColor("#666666"))
                self.drawString(MARGIN, 9 * mm, left)
                self.drawRightString(width - MARGIN, 9 * mm, footer(self._pageNumber, total))
                super().showPage()
            super().save()

    return NumberedCanvas


def quote_pdf_filename(quote: Quote) -> str:
    """QT202611-0001.pdf, or QT202611-0001-v2.pdf for a later revision."""
    name = quote.number + (f"-v{quote.revision}" if quote.revision > 1 else "")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") + ".pdf"  # numbering patterns are configurable


def quote_pdf(quote: Quote) -> bytes:
    """The quote as PDF bytes, in `quote.language`."""
    register_font()
    language = quote.language if quote.language in LABELS else Quote.Language.ZH
    with translation.override(language):
        return _render(quote, language)


def _render(quote: Quote, language: str) -> bytes:
    t, s = LABELS[language], _styles()
    company = company_letterhead()
    lines = quote_lines(quote=quote)
    width = A4[0] - 2 * MARGIN
    story: list = []

    # Letterhead
    story.append(Paragraph(_text(company["name"]), s["company"]))
    contact_bits = [
        _text(company["address"]),
        f"{t['phone']}: {_text(company['phone'])}" if company["phone"] else "",
        f"{t['email']}: {_text(company['email'])}" if company["email"] else "",
    ]
    if any(contact_bits):
        story.append(Paragraph(" · ".join(b for b in contact_bits if b), s["small"]))
    bank_bits = [
        f"{t['bank']}: {_text(company['bank'])}" if company["bank"] else "",
        f"{t['tax_id']}: {_text(company['tax_id'])}" if company["tax_id"] else "",
    ]
    if any(bank_bits):
        story.append(Paragraph(" · ".join(b for b in bank_bits if b), s["small"]))
    rule = Table([[""]], colWidths=[width], rowHeights=[2 * mm])
    rule.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 1.2, colors.HexColor("#1f3a5f"))]))
    story += [rule, Spacer(1, 4 * mm), Paragraph(t["title"], s["title"])]

    # Who, what and when
    number = quote.number + (f"  ({t['revision']} {quote.revision})" if quote.revision > 1 else "")
    contact = quote.contact
    attention = ""
    if contact is not None:
        reach = " ".join(x for x in (contact.mobile or contact.phone, contact.email) if x)
        attention = _text(f"{contact.name} {reach}".strip())
    left = [
        [t["to"], Paragraph(_text(quote.customer.name), s["base"])],
        [t["attention"], Paragraph(attention or "—", s["base"])],
        [t["subject"], Paragraph(_text(quote.title), s["base"])],
    ]
    right = [
        [t["number"], Paragraph(_text(number), s["base"])],
        [t["date"], _day(quote.issued_on, language)],
        [t["valid_until"], _day(quote.valid_until, language)],
        [t["currency"], quote.currency],
    ]
    head_style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
        ]
    )
    left_table = Table(left, colWidths=[20 * mm, width * 0.58 - 20 * mm], style=head_style)
    right_table = Table(right, colWidths=[24 * mm, width * 0.42 - 24 * mm], style=head_style)
    info = Table([[left_table, right_table]], colWidths=[width * 0.58, width * 0.42])
    info.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [info, Spacer(1, 4 * mm)]

    # The lines: the header repeats on every page
    header = [
        t["no"],
        t["sku"],
        t["product"],
        t["quantity"],
        t["unit_price"],
        t["discount"],
        t["amount"],
        t["tax_rate"],
    ]
    rows = [header]
    for index, line in enumerate(lines, start=1):
        name = _text(line.product.label)
        if line.description:
            name += f"<br/><font size=7.5 color='#555555'>{_text(line.description)}</font>"
        rows.append(
            [
                str(index),
                Paragraph(_text(line.product.sku), s["cell"]),
                Paragraph(name, s["cell"]),
                Paragraph(_text(f"{_number(line.quantity)} {line.unit}".strip()), s["cell_right"]),
                money_text(line.unit_price),
                _number(line.discount) if line.discount else "—",
                money_text(line.amount),
                f"{_number(line.tax_rate)}%",
            ]
        )
    widths = [9 * mm, 24 * mm, None, 20 * mm, 23 * mm, 14 * mm, 26 * mm, 12 * mm]
    widths[2] = width - sum(w for w in widths if w)
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa7b5")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                ("ALIGN", (0, 0), (0, -1), "CENTER"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f9fb")]),
            ]
        )
    )
    story.append(table)

    # Totals, and the total in words for yuan
    totals = [
        [t["subtotal"], f"{quote.currency} {money_text(quote.subtotal)}"],
        [t["tax"], f"{quote.currency} {money_text(quote.tax_total)}"],
        [t["total"], f"{quote.currency} {money_text(quote.total)}"],
    ]
    totals_table = Table(totals, colWidths=[40 * mm, 40 * mm], hAlign="RIGHT")
    totals_table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("FONTSIZE", (0, -1), (-1, -1), 11),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ]
        )
    )
    closing: list = [Spacer(1, 2 * mm), totals_table]
    if quote.currency == "CNY":
        closing.append(Paragraph(t["in_words"].format(words=cny_in_words(quote.total)), s["base"]))
    story.append(KeepTogether(closing))
    story.append(Paragraph(t["prices_note"], s["small"]))

    for key, text in (("terms", quote.terms), ("notes", quote.notes)):
        if text.strip():
            story += [Paragraph(t[key], s["heading"]), Paragraph(_text(text), s["base"])]

    # Signature and stamp
    def party(label: str, name: str) -> list:
        return [
            Paragraph(label, s["base"]),
            Paragraph(_text(name), s["base"]),
            Spacer(1, 16 * mm),
            Paragraph(t["signature"], s["base"]),
            Paragraph(t["signed_on"], s["base"]),
        ]

    signatures = Table(
        [[party(t["seller"], company["name"]), party(t["buyer"], quote.customer.name)]],
        colWidths=[width / 2, width / 2],
    )
    signatures.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (0, 0), 0.4, colors.HexColor("#9aa7b5")),
                ("BOX", (1, 0), (1, 0), 0.4, colors.HexColor("#9aa7b5")),
            ]
        )
    )
    story += [Spacer(1, 8 * mm), KeepTogether([signatures])]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{t['title']} {quote.label}",
        author=company["name"],
        subject=quote.title,
        creator="Kehu CRM",
    )
    document.build(
        story,
        canvasmaker=_canvas_maker(
            lambda page, pages: t["page"].format(page=page, pages=pages), f"{t['title']} {quote.label}"
        ),
    )
    return buffer.getvalue()
