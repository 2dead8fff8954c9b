from django.urls import path

from kehu.sales.views import quotes as views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("<int:quote_id>/", views.quote_detail, name="detail"),
    path("<int:quote_id>/edit/", views.quote_edit, name="edit"),
    path("<int:quote_id>/lines/", views.quote_lines, name="lines"),
    path("<int:quote_id>/send/", views.quote_send, name="send"),
    path("<int:quote_id>/accept/", views.quote_accept, name="accept"),
    path("<int:quote_id>/reject/", views.quote_reject, name="reject"),
    path("<int:quote_id>/revise/", views.quote_revise, name="revise"),
    path("<int:quote_id>/delete/", views.quote_delete, name="delete"),
    path("<int:quote_id>/pdf/", views.quote_pdf_download, name="pdf"),
]
