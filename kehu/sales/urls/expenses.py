from django.urls import path

from kehu.sales.views import expenses as views
from kehu.sales.views import review as review_views

app_name = "expenses"

urlpatterns = [
    path("expenses/", views.expense_list, name="list"),
    path("expenses/new/", views.expense_create, name="create"),
    path("expenses/<int:expense_id>/", views.expense_detail, name="detail"),
    path("expenses/<int:expense_id>/edit/", views.expense_edit, name="edit"),
    path("expenses/<int:expense_id>/approve/", views.expense_approve, name="approve"),
    path("expenses/<int:expense_id>/reject/", views.expense_reject, name="reject"),
    path("expenses/<int:expense_id>/delete/", views.expense_delete, name="delete"),
    path("expenses/<int:expense_id>/receipt/", views.expense_receipt, name="receipt"),
    path("review/", review_views.weekly_review, name="review"),
    path("reports/funnel/", review_views.funnel_report, name="funnel"),
]
