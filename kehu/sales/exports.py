"""CSV and XLSX exports of orders and of their line items, with the order list's filters, streamed, the
receivers masked for users without the contact-details permission, and audited (`kehu.core.exports`)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.core.exports import ExportColumn, export_response
from kehu.customers import privacy
from kehu.sales.privacy import is_personal


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _customer(order) -> str:
    return order.customer.name if order.customer_id else ""


def order_columns(shown: privacy.Privacy) -> list[ExportColumn]:
    def receiver(order) -> privacy.Privacy:
        return shown if is_personal(order) else privacy.PLAIN

    return [
        ExportColumn(pgettext("document", "Number"), lambda o: o.number),
        ExportColumn(_("Channel"), lambda o: o.get_channel_display()),
        ExportColumn(_("Shop"), lambda o: o.shop.name if o.shop_id else ""),
        ExportColumn(_("Buyer nick"), lambda o: o.buyer_nick),
        ExportColumn(_("Customer"), _customer),
        ExportColumn(_("Status"), lambda o: o.get_status_display()),
        ExportColumn(_("Status on the platform"), lambda o: o.platform_status),
        ExportColumn(_("Currency"), lambda o: o.currency),
        ExportColumn(_("Goods"), lambda o: o.goods_amount),
        ExportColumn(_("Shipping"), lambda o: o.shipping_amount),
        ExportColumn(_("Discount"), lambda o: o.discount_amount),
        ExportColumn(_("Total"), lambda o: o.total_amount),
        ExportColumn(_("Paid"), lambda o: o.paid_amount),
        ExportColumn(_("Refunded"), lambda o: o.refunded_amount),
        ExportColumn(_("Ordered at"), lambda o: _moment(o.ordered_at)),
        ExportColumn(_("Paid at"), lambda o: _moment(o.paid_at)),
        ExportColumn(_("Shipped at"), lambda o: _moment(o.shipped_at)),
        ExportColumn(_("Completed at"), lambda o: _moment(o.completed_at)),
        ExportColumn(_("Receiver"), lambda o: receiver(o).name(o.receiver_name)),
        ExportColumn(_("Receiver phone"), lambda o: receiver(o).phone(o.receiver_phone)),
        ExportColumn(_("Delivery address"), lambda o: receiver(o).address(o.delivery_address)),
        ExportColumn(_("Logistics company"), lambda o: o.logistics_company),
        ExportColumn(_("Tracking number"), lambda o: o.logistics_no),
        ExportColumn(_("Buyer's message"), lambda o: o.buyer_message),
        ExportColumn(_("Owner"), lambda o: str(o.owner) if o.owner_id else ""),
        ExportColumn(_("Org unit"), lambda o: str(o.org_unit)),
    ]


def line_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_("Order number"), lambda line: line.order.number),
        ExportColumn(_("Channel"), lambda line: line.order.get_channel_display()),
        ExportColumn(_("Shop"), lambda line: line.order.shop.name if line.order.shop_id else ""),
        ExportColumn(_("Customer"), lambda line: _customer(line.order)),
        ExportColumn(_("Ordered at"), lambda line: _moment(line.order.ordered_at)),
        ExportColumn(_("Order status"), lambda line: line.order.get_status_display()),
        ExportColumn(_("Sub-order number"), lambda line: line.sub_order_no),
        ExportColumn(_("Platform item id"), lambda line: line.item_id),
        ExportColumn(_("SKU"), lambda line: line.sku),
        ExportColumn(_("Item"), lambda line: line.title),
        ExportColumn(_("Attributes"), lambda line: line.attributes),
        ExportColumn(_("Quantity"), lambda line: line.quantity),
        ExportColumn(_("Unit price"), lambda line: line.unit_price),
        ExportColumn(_("Amount"), lambda line: line.amount),
        ExportColumn(_("Refunded"), lambda line: line.refunded_amount),
        ExportColumn(_("Status on the platform"), lambda line: line.platform_status),
    ]


def export_orders(*, actor, rows, fmt: str, filters: dict):
    shown = privacy.data_privacy(actor)
    return export_response(
        actor=actor,
        target="orders",
        title=_("Orders"),
        columns=order_columns(shown),
        rows=rows,
        fmt=fmt,
        filters=filters,
        masked=not shown.revealed,
    )


def export_order_lines(*, actor, rows, fmt: str, filters: dict):
    """Line items carry no personal data: nothing to mask."""
    return export_response(
        actor=actor,
        target="order-lines",
        title=_("Order lines"),
        columns=line_columns(),
        rows=rows,
        fmt=fmt,
        filters=filters,
        masked=False,
    )
