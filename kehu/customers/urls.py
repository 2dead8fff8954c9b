from django.urls import path

from kehu.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("filters/", views.saved_filter_create, name="saved_filter_create"),
    path("filters/<int:filter_id>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    path("pool/", views.pool, name="pool"),
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/export.vcf", views.contact_export, name="contact_export"),
    path("contacts/<int:contact_id>/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("search/", views.search, name="search"),
    path("regions/", views.regions, name="regions"),
    path("merge/", views.merge, name="merge"),
    path("recycle-bin/<int:customer_id>/restore/", views.customer_restore, name="restore"),
    path("recycle-bin/contacts/<int:contact_id>/restore/", views.contact_restore, name="contact_restore"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/delete/", views.customer_delete, name="delete"),
    path("<int:customer_id>/claim/", views.customer_claim, name="claim"),
    path("<int:customer_id>/release/", views.customer_release, name="release"),
    path("<int:customer_id>/assign/", views.customer_assign, name="assign"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
]
