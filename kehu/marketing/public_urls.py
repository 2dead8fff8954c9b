from django.urls import path

from kehu.marketing import public_views

app_name = "marketing_public"

urlpatterns = [
    path("o/<str:token>.gif", public_views.opened, name="open"),
    path("c/<str:token>/", public_views.clicked, name="click"),
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("a/<str:signed>/", public_views.material, name="material"),
]
