from django.urls import path

from kehu.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("templates/<slug:kind>.csv", views.import_template, name="template"),
    path("<int:job_id>/", views.import_detail, name="detail"),
    path("<int:job_id>/start/", views.import_start, name="start"),
    path("<int:job_id>/preview/", views.import_mapped_preview, name="preview"),
    path("<int:job_id>/cancel/", views.import_cancel, name="cancel"),
    path("<int:job_id>/resume/", views.import_resume, name="resume"),
    path("<int:job_id>/rejections.csv", views.import_rejections, name="rejections"),
]
