from django.contrib.auth import views as auth_views
from django.urls import path

from kehu.users import views

app_name = "users"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/deactivate/", views.deactivate, name="deactivate"),
]
