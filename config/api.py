"""The REST API: one NinjaAPI at /api/v1/, routers per domain, errors mapped once."""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import SessionAuth

from kehu.core.exceptions import ApplicationError
from kehu.users.api_auth import TokenAuth

api = NinjaAPI(
    title="Kehu CRM API",
    version="1.0.0",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    description="Customers, contacts, follow-up timeline, tasks, the public pool and opportunities. "
    "Authenticate with `Authorization: Bearer <token>` (create tokens on your profile page) or a browser session.",
)


@api.exception_handler(ApplicationError)
def application_error(request, exc: ApplicationError):
    body = {"detail": str(exc.message)}
    if exc.fields:
        body["fields"] = {k: str(v) for k, v in exc.fields.items()}
    body.update(exc.extra)
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    fields = {}
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", []) if part not in ("body", "query", "path", "payload")
        ]
        fields[".".join(location) or "request"] = error.get("msg", "invalid")
    return api.create_response(request, {"detail": _("Invalid input."), "fields": fields}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": _("Authentication required.")}, status=401)


def _register_routers() -> None:
    from kehu.activities.api import router as activities_router
    from kehu.customers.api import router as customers_router
    from kehu.integrations.api import router as integrations_router
    from kehu.loyalty.api import router as loyalty_router
    from kehu.marketing.api import router as marketing_router
    from kehu.marketing.api import templates_router as campaigns_router
    from kehu.marketing.automation_api import router as automation_router
    from kehu.sales.api import router as sales_router
    from kehu.support.api import router as support_router
    from kehu.surveys.api import router as surveys_router
    from kehu.users.api import router as users_router

    api.add_router("/", customers_router)
    api.add_router("/", activities_router)
    api.add_router("/", users_router)
    api.add_router("/", sales_router)
    api.add_router("/", support_router)
    api.add_router("/", loyalty_router)
    api.add_router("/", surveys_router)
    api.add_router("/", marketing_router)
    api.add_router("/", campaigns_router)
    api.add_router("/", automation_router)
    api.add_router("/", integrations_router)


_register_routers()
