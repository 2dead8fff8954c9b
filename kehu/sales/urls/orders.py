from django.urls import path  # noqa: F401

from kehu.sales.views import orders as views  # noqa: F401

app_name = "orders"

urlpatterns = []
