"""CSV and XLSX exports of the customer list, streamed, scoped like the list, masked and audited."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import vcard
from kehu.core.exports import ExportColumn, counted, export_audit, export_response
from kehu.customers import privacy
from kehu.customers.models import CustomField


def _columns(shown: privacy.Privacy):
    def personal(customer):
        return shown if privacy.is_personal(customer) else privacy.PLAIN

    fixed = [
        (_("No."), lambda c: c.pk),
        (_("Name"), lambda c: c.name),
        (_("Short name"), lambda c: c.short_name),
        (_("Kind"), lambda c: c.get_kind_display()),
        (_("Status"), lambda c: c.get_status_display()),
        (_("Level"), lambda c: c.get_level_display()),
        (_("Source"), lambda c: c.get_source_display()),
        (_("Industry"), lambda c: c.industry),
        (_("Phone"), lambda c: personal(c).phone(c.phone)),
        (_("E-mail"), lambda c: c.email),
        (_("WeChat"), lambda c: c.wechat),
        (_("Province"), lambda c: c.province.name if c.province_id else ""),
        (_("City"), lambda c: c.city.name if c.city_id else ""),
        (_("District"), lambda c: c.district.name if c.district_id else ""),
        (_("Address"), lambda c: personal(c).address(c.address)),
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
    """Stream `rows` (already scoped) as CSV or XLSX; people's numbers and addresses masked unless the actor
    may see them."""
    shown = privacy.data_privacy(actor)
    columns = [ExportColumn(label, value) for label, value in _columns(shown)]
    return export_response(
        actor=actor,
        target="customers",
        title=_("Customers"),
        columns=columns,
        rows=rows,
        fmt=fmt,
        filters=filters,
        masked=not shown.revealed,
    )


def export_vcards(*, actor, contacts, filters: dict):
    """Contacts as a vCard 3.0 address book (phones and mail apps import it), streamed and audited; the
    contacts of people (individual customers) masked for users who may not see them."""
    shown = privacy.data_privacy(actor)

    def cards():
        for contact in contacts:
            person = shown if privacy.is_personal(contact.customer) else privacy.PLAIN
            yield {
                "name": contact.name,
                "title": contact.title,
                "department": contact.department,
                "company": contact.customer.name,
                "mobile": person.phone(contact.mobile),
                "phone": person.phone(contact.phone),
                "email": contact.email,
                "wechat": contact.wechat,
                "birthday": contact.birthday.isoformat() if contact.birthday else "",
                "notes": contact.notes,
            }

    audit = export_audit(
        actor=actor, target="contacts", fmt="vcf", filters=filters, masked=not shown.revealed
    )
    response = StreamingHttpResponse(
        vcard.write_vcards(counted(cards(), audit)), content_type="text/vcard; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.vcf"'
    return response
