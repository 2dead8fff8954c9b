from kehu.activities.models import Notification
from kehu.users import scoping


def navigation(request):
    """What the top bar needs: the admin menu, the staff link and the unread notification count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scoping.scope_for(user)
    return {
        "kehu_is_admin": scope.is_system_admin,
        "kehu_manages_users": bool(scope.admin_units),
        "kehu_unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }
