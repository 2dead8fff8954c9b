from django.urls import path

from kehu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("rfm/", views.rfm, name="rfm"),
    path("rfm/recompute/", views.rfm_recompute, name="rfm_recompute"),
    path("settings/", views.score_settings, name="settings"),
    path("migration/", views.rfm_migration, name="migration"),
    path("value/", views.value_models, name="value"),
    path("churn/", views.churn_list, name="churn"),
    path("churn/<int:pk>/", views.churn_detail, name="churn_detail"),
    path("composition/", views.composition, name="composition"),
    path("products/", views.products, name="products"),
    path("seasonal/", views.seasonal, name="seasonal"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("service/", views.service, name="service"),
]
