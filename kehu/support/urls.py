from django.urls import path

from kehu.support import aftersale_views, views

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
]
