"""Personal data — the phone numbers, names and addresses of people (buyers, individual customers, receivers),
not of companies — is shown masked (138****5678).

Users without the contact-details permission (`scoping.sees_contact_details`) only ever see it masked: in pages,
the API and exports. Users with it see pages masked too until they choose to reveal a record, and every reveal is
audited; their API responses and exports are unmasked (an export is audited by itself).
"""

from dataclasses import dataclass

from kehu.core.services import audit_event_record
from kehu.core.text import mask_address, mask_name, mask_phone
from kehu.customers.models import Customer
from kehu.users import scoping

UNMASK = "unmask"


@dataclass(frozen=True)
class Privacy:
    may_reveal: bool  # the actor holds the permission
    revealed: bool  # values are shown in full

    def phone(self, value: str) -> str:
        return value if self.revealed else mask_phone(value)

    def name(self, value: str) -> str:
        return value if self.revealed else mask_name(value)

    def address(self, value: str) -> str:
        return value if self.revealed else mask_address(value)


PLAIN = Privacy(may_reveal=True, revealed=True)


def is_personal(customer: Customer) -> bool:
    return customer.kind == Customer.Kind.INDIVIDUAL


def page_privacy(actor, *, reveal: bool, target: str) -> Privacy:
    """How a page shows personal data; `reveal` is the actor's request to see it in full, audited when granted."""
    may = scoping.sees_contact_details(actor)
    if may and reveal:
        audit_event_record(actor=actor, action=UNMASK, target=target, detail={})
        return Privacy(may_reveal=True, revealed=True)
    return Privacy(may_reveal=may, revealed=False)


def data_privacy(actor) -> Privacy:
    """How the API and exports show personal data: in full to holders of the permission, masked to others."""
    may = scoping.sees_contact_details(actor)
    return Privacy(may_reveal=may, revealed=may)


def customer_privacy(actor, customer: Customer, *, reveal: bool = False) -> Privacy:
    """A customer page: a company's numbers are business data and shown as they are."""
    if not is_personal(customer):
        return PLAIN
    return page_privacy(actor, reveal=reveal, target=f"customer:{customer.pk}")


# A customer's personal fields and how each is masked.
CUSTOMER_FIELDS = {"phone": "phone", "phone2": "phone", "address": "address"}


def masked_initial(customer: Customer, privacy: Privacy) -> dict:
    """What the edit form shows in the personal fields: masked for a user who may not see them."""
    if privacy.revealed:
        return {}
    return {name: getattr(privacy, how)(getattr(customer, name)) for name, how in CUSTOMER_FIELDS.items()}


def unmasked_post(post, customer: Customer, privacy: Privacy):
    """The posted form with every personal field left as shown (still masked) put back to its stored value, so that
    a user who may not see a number can edit the rest of the record without overwriting it."""
    if privacy.revealed:
        return post
    post = post.copy()
    for name, masked in masked_initial(customer, privacy).items():
        if name in post and post[name] == masked:
            post[name] = getattr(customer, name)
    return post


def history_masks(shown: Privacy, fields: dict[str, str]) -> dict:
    """For `history_of`: each personal field (name → "phone" / "name" / "address") masked as `shown` shows it."""
    if shown.revealed:
        return {}
    return {name: getattr(shown, how) for name, how in fields.items()}
