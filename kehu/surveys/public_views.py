"""The respondent's page `/q/<token>/`: no login, made for a phone, in Chinese or English (the switch in the
corner). It shows the sections in order; as questions are answered, `surveys/answer.js` hides the sections
the skip logic passes over, and the server checks the submission against the same logic (`logic.py`). A
customer's link takes one answer ("already answered" after it) until it expires; the anonymous link takes many
answers, counted per address and hour."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from kehu.core.exceptions import ApplicationError, Throttled
from kehu.surveys import links, selectors, services
from kehu.surveys.forms import SCALE_CHOICES
from kehu.surveys.models import LIKERT_LABELS, QuestionKind, Survey

STATE_PAGES = {
    "draft": (404, ""),
    "closed": (410, "closed"),
    "expired": (410, "expired"),
    "answered": (200, "answered"),
}


def answer_context(survey: Survey, posted: dict, errors: dict) -> dict:
    """What the page shows: the sections and their questions with what was posted, the errors, and the skip rules
    for the script."""
    sections = selectors.sections_of(survey)
    number = 0
    rules = {}
    for section in sections:
        section.shown_questions = []
        for question in section.questions.all():
            number += 1
            question.number = number
            question.posted = posted.get(question.code, [])
            question.error = errors.get(question.code, "")
            if question.kind == QuestionKind.LIKERT:
                question.scale = [(str(v), label) for v, label in LIKERT_LABELS.items()]
            elif question.kind == QuestionKind.RATING:
                question.scale = [(str(v), "★" * v) for v in range(5, 0, -1)]
            elif question.kind == QuestionKind.NPS:
                question.scale = [(str(v), str(v)) for v in SCALE_CHOICES[QuestionKind.NPS]]
            section.shown_questions.append(question)
            if question.logic:
                rules[question.code] = {"kind": question.kind, "rules": question.logic}
    return {
        "survey": survey,
        "sections": sections,
        "logic": {
            "sections": [[s.key, [q.code for q in s.shown_questions]] for s in sections],
            "rules": rules,
        },
        "errors": errors,
        "kinds": QuestionKind,
    }


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _posted(request, survey: Survey) -> dict[str, list[str]]:
    codes = survey.questions.values_list("code", flat=True)
    return {code: request.POST.getlist(f"q-{code}") for code in codes}


def _state_page(request, survey: Survey, state: str):
    status, which = STATE_PAGES[state]
    if not which:
        raise Http404()
    return render(request, "surveys/public/state.html", {"survey": survey, "state": which}, status=status)


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    found = links.resolve(token)
    if found is None:
        raise Http404()
    survey, invitation = found
    state = services.answering_state(survey=survey, invitation=invitation)
    if state != "open":
        return _state_page(request, survey, state)
    if request.method == "GET":
        if invitation is not None:
            services.invitation_opened(invitation=invitation)
        return render(request, "surveys/public/answer.html", answer_context(survey, {}, {}))
    posted = _posted(request, survey)
    if request.POST.get("website"):  # the hidden field only bots fill in: thanked, nothing stored
        return render(request, "surveys/public/state.html", {"survey": survey, "state": "thanks"})
    try:
        if invitation is None:
            services.throttle_check(survey=survey, ip=_client_ip(request))
        services.response_submit(
            survey=survey, posted=posted, language=get_language() or "", invitation=invitation
        )
    except services.AlreadyAnswered:
        return _state_page(request, survey, "answered")
    except services.LinkExpired:
        return _state_page(request, survey, "expired")
    except Throttled as exc:
        return render(
            request,
            "surveys/public/state.html",
            {"survey": survey, "state": "throttled", "message": exc.message},
            status=429,
        )
    except ApplicationError as exc:
        context = answer_context(survey, posted, {k: str(v) for k, v in exc.fields.items()})
        context["form_error"] = str(exc.message)
        return render(request, "surveys/public/answer.html", context, status=400)
    return render(request, "surveys/public/state.html", {"survey": survey, "state": "thanks"})
