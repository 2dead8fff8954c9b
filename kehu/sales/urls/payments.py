from django.urls import path

from kehu.sales.views import payments as views

app_name = "payments"

urlpatterns = [
    path("", views.receivables, name="receivables"),
    path("overdue/", views.overdue, name="overdue"),
    path("contracts/<int:contract_id>/", views.contract_payments, name="contract"),
    path("contracts/<int:contract_id>/plan/", views.plan_edit, name="plan"),
    path("contracts/<int:contract_id>/receipts/", views.receipt_create, name="receipt_create"),
    path(
        "contracts/<int:contract_id>/receipts/<int:receipt_id>/void/", views.receipt_void, name="receipt_void"
    ),
    path("contracts/<int:contract_id>/invoices/", views.invoice_create, name="invoice_create"),
    path(
        "contracts/<int:contract_id>/invoices/<int:invoice_id>/void/", views.invoice_void, name="invoice_void"
    ),
]
