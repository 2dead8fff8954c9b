from django.urls import path

from kehu.sales.views import contracts as views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create, name="create"),
    path("approvals/", views.approval_inbox, name="approvals"),
    path("approvals/<int:approval_id>/approve/", views.approval_approve, name="approve"),
    path("approvals/<int:approval_id>/reject/", views.approval_reject, name="reject"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("attachments/<int:attachment_id>/delete/", views.attachment_remove, name="attachment_remove"),
    path("<int:contract_id>/", views.contract_detail, name="detail"),
    path("<int:contract_id>/edit/", views.contract_edit, name="edit"),
    path("<int:contract_id>/submit/", views.contract_submit, name="submit"),
    path("<int:contract_id>/withdraw/", views.contract_withdraw, name="withdraw"),
    path("<int:contract_id>/complete/", views.contract_complete, name="complete"),
    path("<int:contract_id>/terminate/", views.contract_terminate, name="terminate"),
    path("<int:contract_id>/delete/", views.contract_delete, name="delete"),
    path("<int:contract_id>/attachments/", views.attachment_add, name="attachment_add"),
]
