from django.urls import path

from kehu.support import aftersale_views, knowledge_views, views

app_name = "support"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("lookup/", views.lookup, name="lookup"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("<int:ticket_id>/clocks/", views.ticket_clocks, name="clocks"),
    path("<int:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("<int:ticket_id>/note/", views.ticket_note, name="note"),
    path("<int:ticket_id>/status/", views.ticket_status, name="status"),
    path("<int:ticket_id>/assign/", views.ticket_assign, name="assign"),
    path("<int:ticket_id>/after-sales/", aftersale_views.after_sale_create, name="after_sale_create"),
    path(
        "after-sales/<int:after_sale_id>/status/",
        aftersale_views.after_sale_advance,
        name="after_sale_advance",
    ),
    path("<int:ticket_id>/compensations/", aftersale_views.compensation_add, name="compensation_add"),
    path(
        "compensations/<int:compensation_id>/letter.pdf",
        aftersale_views.apology_letter,
        name="apology_letter",
    ),
    path("follow-ups/<int:follow_up_id>/", aftersale_views.follow_up_record, name="follow_up_record"),
    path("returns/", aftersale_views.return_rates, name="returns"),
    path("files/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("kb/", knowledge_views.article_list, name="kb_list"),
    path("kb/new/", knowledge_views.article_create, name="kb_create"),
    path("kb/suggest/", knowledge_views.suggest, name="kb_suggest"),
    path("kb/<int:article_id>/", knowledge_views.article_detail, name="kb_detail"),
    path("kb/<int:article_id>/edit/", knowledge_views.article_edit, name="kb_edit"),
    path("kb/<int:article_id>/status/", knowledge_views.article_status, name="kb_status"),
    path("kb/<int:article_id>/delete/", knowledge_views.article_delete, name="kb_delete"),
    path("kb/<int:article_id>/restore/", knowledge_views.article_restore, name="kb_restore"),
    path("kb/<int:article_id>/files/", knowledge_views.attachment_add, name="kb_attach"),
    path("kb/files/<int:attachment_id>/", knowledge_views.attachment_download, name="kb_file"),
    path("kb/files/<int:attachment_id>/remove/", knowledge_views.attachment_remove, name="kb_file_remove"),
    path("<int:ticket_id>/kb/link/", knowledge_views.ticket_link, name="kb_link"),
    path("<int:ticket_id>/kb/<int:article_id>/solved/", knowledge_views.ticket_solved, name="kb_solved"),
]
