from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.api import api
from kehu.sales.views.leads import capture as capture_view

urlpatterns = [
    path("", include("kehu.core.urls")),
    path("", include("kehu.users.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("", include("kehu.activities.urls")),
    path("leads/", include("kehu.sales.urls.leads")),
    path("f/<str:token>/", capture_view, name="lead-capture"),
    path("opportunities/", include("kehu.sales.urls.opportunities")),
    path("quotes/", include("kehu.sales.urls.quotes")),
    path("contracts/", include("kehu.sales.urls.contracts")),
    path("orders/", include("kehu.sales.urls.orders")),
    path("buyers/", include("kehu.sales.urls.buyers")),
    path("receivables/", include("kehu.sales.urls.payments")),
    path("", include("kehu.sales.urls.targets")),
    path("", include("kehu.sales.urls.expenses")),
    path("recycle-bin/sales/", include("kehu.sales.urls.recycle")),
    path("territories/", include("kehu.sales.urls.territories")),
    path("tickets/", include("kehu.support.urls")),
    path("help/", include("kehu.support.public_urls")),
    path("s/", include("kehu.support.portal_urls")),
    path("loyalty/", include("kehu.loyalty.urls")),
    path("surveys/", include("kehu.surveys.urls")),
    path("marketing/", include("kehu.marketing.urls")),
    path("m/", include("kehu.marketing.public_urls")),
    path("q/", include("kehu.surveys.public_urls")),
    path("analytics/", include("kehu.analytics.urls")),
    path("imports/", include("kehu.integrations.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
