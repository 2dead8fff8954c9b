from django.urls import path  # noqa: F401

from kehu.sales.views import quotes as views  # noqa: F401

app_name = "quotes"

urlpatterns = []
