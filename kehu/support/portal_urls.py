from django.urls import path

from kehu.support import portal_views

app_name = "support_portal"

urlpatterns = [
    path("<str:token>/", portal_views.status_page, name="status"),
    path("<str:token>/files/<int:attachment_id>/", portal_views.status_file, name="file"),
    path("rate/<str:token>/", portal_views.rating_page, name="rating"),
]
