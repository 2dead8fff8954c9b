from django.urls import path

from kehu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("rfm/", views.rfm, name="rfm"),
    path("rfm/recompute/", views.rfm_recompute, name="rfm_recompute"),
    path("settings/", views.score_settings, name="settings"),
    path("migration/", views.rfm_migration, name="migration"),
]
