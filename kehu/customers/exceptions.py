from django.utils.translation import gettext_lazy as _

from kehu.core.exceptions import Conflict, ValidationFailed


class CustomerCollision(Conflict):
    """The customer matches an existing one by mobile, e-mail or exact name (撞单)."""

    default_message = _("This customer already exists.")

    def __init__(self, *, existing, matched_on: list[str], message: str):
        super().__init__(
            message,
            extra={
                "existing_id": existing.pk,
                "existing_name": existing.name,
                "existing_owner": str(existing.owner) if existing.owner_id else "",
                "matched_on": matched_on,
            },
        )
        self.existing = existing
        self.matched_on = matched_on


class OwnerCapReached(ValidationFailed):
    default_message = _("The owner already has the maximum number of customers allowed.")
