from django.urls import path  # noqa: F401

from kehu.sales.views import payments as views  # noqa: F401

app_name = "payments"

urlpatterns = []
