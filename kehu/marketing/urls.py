from django.urls import path

from kehu.marketing import automation_urls, campaign_views, views

app_name = "marketing"

urlpatterns = [
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_edit, name="segment_new"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:segment_id>/snapshot/", views.segment_snapshot, name="segment_snapshot"),
    path("segments/<int:segment_id>/restore/", views.segment_restore, name="segment_restore"),
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_edit, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/<str:action>/", campaign_views.campaign_act, name="campaign_act"),
    path("templates/", campaign_views.template_list, name="templates"),
    path("templates/new/", campaign_views.template_edit, name="template_new"),
    path("templates/<int:template_id>/", campaign_views.template_preview, name="template_preview"),
    path("templates/<int:template_id>/edit/", campaign_views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", campaign_views.template_delete, name="template_delete"),
    path("materials/", campaign_views.material_list, name="materials"),
    path("materials/<int:material_id>/delete/", campaign_views.material_delete, name="material_delete"),
    path("suppressions/", campaign_views.suppression_list, name="suppressions"),
    path(
        "suppressions/<int:suppression_id>/remove/",
        campaign_views.suppression_remove,
        name="suppression_remove",
    ),
    path("consents/<int:customer_id>/", campaign_views.consent_set, name="consent_set"),
    path("recycle/<str:kind>/<int:record_id>/restore/", campaign_views.restore, name="restore"),
]

urlpatterns += automation_urls.urlpatterns
