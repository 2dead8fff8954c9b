"""The links respondents open (`/q/<token>/`), signed with the site's secret key so that they cannot be guessed or
moved to another survey or customer.

- A customer's link names their invitation; it expires at the invitation's `expires_at` (the survey's
  `link_days` after it was made) and takes one response.
- The anonymous link names the survey and its `public_key`; it works while the survey is published with the
  anonymous link on, and a new key (`survey_public_link_renew`) turns every earlier anonymous link off.

Links are absolute, starting with `KEHU["SITE_URL"]` like the service desk's links in mail.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from kehu.surveys.models import Invitation, Survey

INVITATION = "kehu.surveys.invitation"
PUBLIC = "kehu.surveys.public"


def _absolute(path: str) -> str:
    return settings.KEHU["SITE_URL"].rstrip("/") + path


def invitation_token(invitation: Invitation) -> str:
    return signing.Signer(salt=INVITATION).sign_object({"i": invitation.pk, "s": invitation.survey_id})


def public_token(survey: Survey) -> str:
    return signing.Signer(salt=PUBLIC).sign_object({"s": survey.pk, "k": survey.public_key})


def invitation_path(invitation: Invitation) -> str:
    return reverse("survey_public:answer", args=[invitation_token(invitation)])


def invitation_url(invitation: Invitation) -> str:
    return _absolute(invitation_path(invitation))


def public_path(survey: Survey) -> str:
    return reverse("survey_public:answer", args=[public_token(survey)])


def public_url(survey: Survey) -> str:
    return _absolute(public_path(survey))


def _unsign(token: str, salt: str) -> dict | None:
    try:
        value = signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def resolve(token: str) -> tuple[Survey, Invitation | None] | None:
    """(survey, invitation) for a customer's link, (survey, None) for an anonymous one, None for a forged or
    garbled link, a binned survey or an anonymous link whose key was renewed."""
    value = _unsign(token, INVITATION)
    if value is not None:
        invitation = (
            Invitation.objects.select_related("survey", "customer")
            .filter(pk=value.get("i"), survey_id=value.get("s"), survey__deleted_at__isnull=True)
            .first()
        )
        return (invitation.survey, invitation) if invitation is not None else None
    value = _unsign(token, PUBLIC)
    if value is None:
        return None
    survey = Survey.objects.filter(pk=value.get("s"), public_key=value.get("k")).first()
    return (survey, None) if survey is not None else None
