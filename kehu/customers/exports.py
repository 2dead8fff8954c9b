"""CSV and XLSX exports of the customer list, streamed, scoped like the list, and audited."""

import io

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kehu.core.csvstream import csv_lines
from kehu.core.services import audit_event_record
from kehu.customers.models import CustomField


def _columns():
    fixed = [
        (_("No."), lambda c: c.pk),
        (_("Name"), lambda c: c.name),
        (_("Short name"), lambda c: c.short_name),
        (_("Kind"), lambda c: c.get_kind_display()),
        (_("Status"), lambda c: c.get_status_display()),
        (_("Level"), lambda c: c.get_level_display()),
        (_("Source"), lambda c: c.get_source_display()),
        (_("Industry"), lambda c: c.industry),
        (_("Phone"), lambda c: c.phone),
        (_("E-mail"), lambda c: c.email),
        (_("WeChat"), lambda c: c.wechat),
        (_("Province"), lambda c: c.province.name if c.province_id else ""),
        (_("City"), lambda c: c.city.name if c.city_id else ""),
        (_("District"), lambda c: c.district.name if c.district_id else ""),
        (_("Address"), lambda c: c.address),
        (_("Tags"), lambda c: ", ".join(t.name for t in c.tags.all())),
        (_("Owner"), lambda c: str(c.owner) if c.owner_id else _("Public pool")),
        (_("Org unit"), lambda c: str(c.org_unit)),
        (
            _("Last follow-up"),
            lambda c: (
                timezone.localtime(c.last_followup_at).strftime("%Y-%m-%d %H:%M")
                if c.last_followup_at
                else ""
            ),
        ),
        (_("Next follow-up"), lambda c: c.next_followup_on.isoformat() if c.next_followup_on else ""),
        (_("Created"), lambda c: timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M")),
    ]
    custom = [
        (d.label_zh if d.label_zh else d.key, (lambda key: lambda c: _plain(c.custom.get(key)))(d.key))
        for d in CustomField.objects.filter(entity=CustomField.Entity.CUSTOMER, active=True)
    ]
    return fixed + custom


def _plain(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def export_customers(*, actor, rows, fmt: str, filters: dict):
    """Stream `rows` (already scoped) as CSV (UTF-8 with BOM, for Excel) or XLSX; record who exported what."""
    columns = _columns()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    counter = {"rows": 0}

    def records():
        for customer in rows:
            counter["rows"] += 1
            yield [getter(customer) for _label, getter in columns]

    audit_event_record(
        actor=actor, action="export", target="customers", detail={"format": fmt, "filters": filters}
    )
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Customers"))
        sheet.append([str(label) for label, _getter in columns])
        for record in records():
            sheet.append(record)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = StreamingHttpResponse(
            iter([buffer.getvalue()]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.xlsx"'
        return response
    header = [str(label) for label, _getter in columns]
    response = StreamingHttpResponse(csv_lines(header, records()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
