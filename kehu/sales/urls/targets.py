from django.urls import path  # noqa: F401

from kehu.sales.views import targets as views  # noqa: F401

app_name = "targets"

urlpatterns = []
