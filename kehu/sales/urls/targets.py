from django.urls import path

from kehu.sales.views import targets as views

app_name = "targets"

urlpatterns = [
    path("quotas/", views.quota_grid, name="quotas"),
    path("quotas/cell/", views.quota_cell, name="quota_cell"),
    path("forecast/", views.forecast_page, name="forecast"),
    path("commissions/", views.commission_list, name="commissions"),
    path("commissions/compute/", views.commission_compute, name="commission_compute"),
    path("commissions/<int:statement_id>/", views.commission_detail, name="commission_detail"),
    path("commissions/<int:statement_id>/compute/", views.commission_recompute, name="commission_recompute"),
    path("commissions/<int:statement_id>/confirm/", views.commission_confirm, name="commission_confirm"),
    path("commissions/<int:statement_id>/export.csv", views.commission_export, name="commission_export"),
]
