"""Application errors. Services raise these; the web and API edges map them to responses once."""

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A rule was broken. `message` is shown to the user; `fields` maps field names to messages."""

    status_code = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, fields: dict | None = None, extra: dict | None = None):
        self.message = message or self.default_message
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(str(self.message))


class NotFound(ApplicationError):
    """The record does not exist, or the actor may not see it: both answer the same way."""

    status_code = 404
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    """The actor sees the record but may not perform this action on it."""

    status_code = 403
    default_message = _("You do not have permission to do this.")


class ValidationFailed(ApplicationError):
    status_code = 422
    default_message = _("Please correct the errors below.")


class Throttled(ApplicationError):
    """Too many attempts from one client in a short time."""

    status_code = 429
    default_message = _("Too many requests. Please try again later.")


class Conflict(ApplicationError):
    status_code = 409
    default_message = _("This conflicts with an existing record.")


class StaleEdit(Conflict):
    """Someone saved the record after the form was opened. `changes` lists field → (theirs, current)."""

    default_message = _(
        "This record was changed by someone else after you opened it. Review the changes and save again."
    )

    def __init__(self, *, changes: dict, current_version: int):
        super().__init__(extra={"changes": changes, "current_version": current_version})
        self.changes = changes
        self.current_version = current_version
