"""Pages of the care automations (mounted inside the marketing namespace)."""

from django.urls import path

from kehu.marketing import automation_views as views

urlpatterns = [
    path("automations/", views.automation_list, name="automations"),
    path("automations/new/", views.automation_edit, name="automation_new"),
    path("automations/<int:automation_id>/edit/", views.automation_edit, name="automation_edit"),
    path("automations/<int:automation_id>/log/", views.automation_log, name="automation_log"),
    path("automations/<int:automation_id>/toggle/", views.automation_toggle, name="automation_toggle"),
    path("automations/<int:automation_id>/delete/", views.automation_delete, name="automation_delete"),
]
