from django.urls import path

from kehu.sales.views import orders as views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("export/", views.order_export, name="export"),
    path("from-contract/<int:contract_id>/", views.order_from_contract, name="from_contract"),
    path("<int:order_id>/", views.order_detail, name="detail"),
    path("<int:order_id>/lines/", views.order_lines, name="lines"),
    path("<int:order_id>/status/", views.order_status, name="status"),
    path("<int:order_id>/delete/", views.order_delete, name="delete"),
]
