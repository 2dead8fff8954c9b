from django.urls import path

from kehu.support import public_views

app_name = "support_public"

urlpatterns = [
    path("<int:unit_id>/", public_views.help_form, name="form"),
    path("<int:unit_id>/thanks/", public_views.help_thanks, name="thanks"),
]
