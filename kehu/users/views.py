from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ApplicationError
from kehu.core.web import apply_error
from kehu.users import selectors, services
from kehu.users.forms import DeactivateForm, LanguageForm, LoginForm, TokenForm


class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_POST
def set_language(request):
    """Switch the interface language; remembered on the user after login and in a cookie before it."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            "django_language", language, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
        )
    return response


@login_required
def profile(request):
    token_form = TokenForm()
    new_secret = None
    if request.method == "POST":
        token_form = TokenForm(request.POST)
        if token_form.is_valid():
            try:
                _token, new_secret = services.api_token_create(
                    actor=request.user, name=token_form.cleaned_data["name"]
                )
                token_form = TokenForm()
            except ApplicationError as exc:
                apply_error(token_form, exc)
    return render(
        request,
        "users/profile.html",
        {
            "token_form": token_form,
            "tokens": selectors.tokens_of(actor=request.user),
            "new_secret": new_secret,
        },
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    services.api_token_revoke(actor=request.user, token_id=token_id)
    messages.success(request, _("Token revoked."))
    return redirect("users:profile")


@login_required
def staff(request):
    users = selectors.staff_list(actor=request.user)
    if not users.exists() and not services.scoping.is_system_admin(request.user):
        return render(request, "403.html", status=403)
    return render(request, "users/staff.html", {"staff": users})


@login_required
def deactivate(request, user_id: int):
    leaving = selectors.staff_get_for(actor=request.user, user_id=user_id)
    form = DeactivateForm(
        request.POST or None, successors=selectors.successor_candidates(actor=request.user, leaving=leaving)
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.user_deactivate(
                actor=request.user, user=leaving, successor=form.cleaned_data["successor"]
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "%(user)s is deactivated. Moved to %(successor)s: %(customers)s customers, %(tasks)s tasks."
                )
                % {
                    "user": leaving,
                    "customers": moved.get("customers", 0),
                    "tasks": moved.get("tasks", 0),
                    "successor": form.cleaned_data["successor"],
                },
            )
            return redirect(reverse("users:staff"))
    return render(request, "users/deactivate.html", {"leaving": leaving, "form": form})
