"""Which orders carry personal data (a receiver's name, phone and address) and how they are shown; the rules
themselves are `kehu.customers.privacy`'s."""

from kehu.customers import privacy
from kehu.sales.models import Order

# An order's personal fields and how each is masked.
RECEIVER_FIELDS = {"receiver_name": "name", "receiver_phone": "phone", "delivery_address": "address"}


def is_personal(order: Order) -> bool:
    """A marketplace or shop order goes to a person; a direct sale to a company unless its customer is one."""
    return order.channel != Order.Channel.B2B or (
        order.customer_id is not None and privacy.is_personal(order.customer)
    )


def order_privacy(actor, order: Order, *, reveal: bool) -> privacy.Privacy:
    """How an order's page shows its receiver."""
    if not is_personal(order):
        return privacy.PLAIN
    return privacy.page_privacy(actor, reveal=reveal, target=f"order:{order.pk}")


def order_data_privacy(actor, order: Order) -> privacy.Privacy:
    """How the API and exports show an order's receiver."""
    return privacy.data_privacy(actor) if is_personal(order) else privacy.PLAIN
