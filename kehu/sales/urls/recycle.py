from django.urls import path

from kehu.sales.views import recycle as views

app_name = "sales_bin"

urlpatterns = [
    path("<str:kind>/<int:record_id>/restore/", views.restore, name="restore"),
]
