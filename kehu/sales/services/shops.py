"""Shops: a seller's stores on each platform, each belonging to the org unit that serves its buyers."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.sales.models import Shop
from kehu.users import scoping
from kehu.users.models import OrgUnit, User


def shop_create(*, actor: User, platform: str, name: str, org_unit: OrgUnit, external_id: str = "") -> Shop:
    """A new shop of a unit the actor manages (system admins: any unit)."""
    if not scoping.can_assign_in(actor, org_unit.pk):
        raise PermissionDenied(_("Only managers of the unit open shops for it."))
    name, external_id = name.strip(), external_id.strip()
    if platform not in Shop.Platform.values:
        raise ValidationFailed(fields={"platform": _("Unknown platform.")})
    if not name:
        raise ValidationFailed(fields={"name": _("Name the shop.")})
    try:
        with transaction.atomic():
            return Shop.objects.create(
                platform=platform, name=name, external_id=external_id, org_unit=org_unit
            )
    except IntegrityError:
        raise ValidationFailed(
            fields={"name": _("There is already a shop called %(name)s on this platform.") % {"name": name}}
        ) from None
