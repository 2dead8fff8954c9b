from django.urls import path

from kehu.sales.views import territories as views

app_name = "territories"

urlpatterns = [
    path("assign/", views.assign, name="assign"),
]
