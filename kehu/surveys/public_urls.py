from django.urls import path

from kehu.surveys import public_views

app_name = "survey_public"

urlpatterns = [
    path("<str:token>/", public_views.answer, name="answer"),
]
