from django.urls import path

from kehu.marketing import automation_urls, views

app_name = "marketing"

urlpatterns = [
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_edit, name="segment_new"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:segment_id>/snapshot/", views.segment_snapshot, name="segment_snapshot"),
    path("segments/<int:segment_id>/restore/", views.segment_restore, name="segment_restore"),
]

urlpatterns += automation_urls.urlpatterns
