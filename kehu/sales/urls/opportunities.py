from django.urls import path

from kehu.sales.views import opportunities as views

app_name = "sales"

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("board/", views.board, name="board"),
    path("new/", views.opportunity_create, name="create"),
    path("<int:opportunity_id>/", views.opportunity_detail, name="detail"),
    path("<int:opportunity_id>/edit/", views.opportunity_edit, name="edit"),
    path("<int:opportunity_id>/lines/", views.opportunity_lines, name="lines"),
    path("<int:opportunity_id>/move/", views.opportunity_move, name="move"),
    path("<int:opportunity_id>/assign/", views.opportunity_assign, name="assign"),
    path("<int:opportunity_id>/delete/", views.opportunity_delete, name="delete"),
]
