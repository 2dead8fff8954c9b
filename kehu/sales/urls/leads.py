from django.urls import path

from kehu.sales.views import leads as views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("pool/", views.lead_pool, name="pool"),
    path("report/", views.lead_report, name="report"),
    path("new/", views.lead_create, name="create"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("<int:lead_id>/edit/", views.lead_edit, name="edit"),
    path("<int:lead_id>/activity/", views.lead_log_activity, name="activity"),
    path("<int:lead_id>/status/", views.lead_status, name="status"),
    path("<int:lead_id>/assign/", views.lead_assign, name="assign"),
    path("<int:lead_id>/claim/", views.lead_claim, name="claim"),
    path("<int:lead_id>/release/", views.lead_release, name="release"),
    path("<int:lead_id>/convert/", views.lead_convert, name="convert"),
    path("<int:lead_id>/delete/", views.lead_delete, name="delete"),
]
