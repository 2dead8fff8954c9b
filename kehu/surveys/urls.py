from django.urls import path

from kehu.surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_new, name="new"),
    path("from-template/", views.survey_from_template, name="from_template"),
    path("<int:survey_id>/edit/", views.survey_edit, name="edit"),
    path("<int:survey_id>/preview/", views.survey_preview, name="preview"),
    path("<int:survey_id>/do/<slug:action>/", views.survey_action, name="action"),
    path("<int:survey_id>/restore/", views.survey_restore, name="restore"),
    path("<int:survey_id>/sections/add/", views.section_add, name="section_add"),
    path("<int:survey_id>/sections/<int:section_id>/edit/", views.section_edit, name="section_edit"),
    path(
        "<int:survey_id>/sections/<int:section_id>/move/<slug:direction>/",
        views.section_move,
        name="section_move",
    ),
    path("<int:survey_id>/sections/<int:section_id>/delete/", views.section_delete, name="section_delete"),
    path("<int:survey_id>/sections/<int:section_id>/questions/add/", views.question_add, name="question_add"),
    path("<int:survey_id>/questions/<int:question_id>/edit/", views.question_edit, name="question_edit"),
    path(
        "<int:survey_id>/questions/<int:question_id>/move/<slug:direction>/",
        views.question_move,
        name="question_move",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/delete/", views.question_delete, name="question_delete"
    ),
    path("<int:survey_id>/distribute/", views.distribute, name="distribute"),
    path("<int:survey_id>/results/", views.results, name="results"),
    path("<int:survey_id>/index/", views.index, name="index"),
    path("<int:survey_id>/indicators/", views.indicators, name="indicators"),
]
