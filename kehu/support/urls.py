from django.urls import path

from kehu.support import views

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
]
