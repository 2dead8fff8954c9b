from django.urls import path

from kehu.sales.views import buyers as views

app_name = "buyers"

urlpatterns = [
    path("<int:customer_id>/", views.buyer_profile, name="profile"),
    path("links/<int:suggestion_id>/", views.buyer_link_decide, name="link_decide"),
]
