"""Writes for surveys: the questionnaire and its builder steps, publishing and closing, the indicator tree, the
invitations that give customers their own links, and the submission of a response.

A published survey's sections and questions are frozen, so that every answer to a question means the same: a
change to them is refused with a message saying to copy the survey into a new draft (`survey_copy`), which
keeps the codes, the skip logic and the indicator tree. Texts (title, introduction, thanks) and the link
settings stay editable. Every change is audited (simple-history on surveys, sections and questions; the
indicator tree and invitations as audit events).
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.exceptions import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
from kehu.core.records import check_version, move_to_recycle_bin, restore_from_recycle_bin, save_audited
from kehu.core.services import audit_event_record
from kehu.customers.models import Customer
from kehu.sales.models import BuyerIdentity, Order
from kehu.sales.services.leads import capture_address
from kehu.surveys import links, logic
from kehu.surveys.models import (
    SCORED_KINDS,
    Answer,
    CustomerSurveyStats,
    Indicator,
    Invitation,
    Question,
    QuestionKind,
    Response,
    Section,
    Survey,
)
from kehu.users import scoping
from kehu.users.models import OrgUnit, User
from kehu.users.services import primary_unit_of

SURVEY_FIELDS = [
    "title",
    "title_en",
    "intro",
    "intro_en",
    "thanks",
    "thanks_en",
    "anonymous_link",
    "link_days",
    "closes_at",
]
TEXT_LIMITS = {
    "title": 200,
    "title_en": 200,
    "intro": 5000,
    "intro_en": 5000,
    "thanks": 2000,
    "thanks_en": 2000,
}
MAX_INVITATIONS = 5000  # customers in one call
PUBLIC_WINDOW = 60 * 60  # seconds in which the anonymous answers of one address are counted
PUBLIC_PER_WINDOW = 20


class AlreadyAnswered(Conflict):
    default_message = gettext_lazy("This link has already been used to answer the survey.")


class LinkExpired(ValidationFailed):
    status_code = 410


def _frozen() -> Conflict:
    return Conflict(
        _(
            "This survey has been published, so its sections and questions are frozen (every answer must mean the "
            "same). Copy it into a new draft to change them."
        )
    )


# --- who may do what ----------------------------------------------------------------------------------------------


def may_edit(actor: User, survey: Survey | None = None) -> bool:
    """Whether the actor may create surveys (None) or change this one: its owner, the managers of its unit and
    system admins; analysts read only."""
    if scoping.scope_for(actor).read_only:
        return False
    return survey is None or scoping.can_edit(actor, survey)


def _require_edit(actor: User, survey: Survey) -> None:
    if not may_edit(actor, survey):
        raise PermissionDenied()


def _require_draft(survey: Survey) -> None:
    if not survey.is_draft:
        raise _frozen()


def _locked(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


# --- the survey ---------------------------------------------------------------------------------------------------


def _clean_survey(data: dict) -> dict:
    cleaned, errors = {}, {}
    for name in SURVEY_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in TEXT_LIMITS:
            value = (value or "").strip()
            if len(value) > TEXT_LIMITS[name]:
                errors[name] = _("At most %(n)s characters.") % {"n": TEXT_LIMITS[name]}
        elif name == "anonymous_link":
            value = bool(value)
        elif name == "link_days":
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= 365:
                errors[name] = _("Enter between 1 and 365 days.")
        elif name == "closes_at" and value is not None and timezone.is_naive(value):
            errors[name] = _("Give the time with its time zone.")
        cleaned[name] = value
    if "title" in cleaned and not cleaned["title"] and not cleaned.get("title_en"):
        errors["title"] = _("Give the survey a title.")
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _unit_for(actor: User, org_unit: OrgUnit | None) -> OrgUnit:
    if org_unit is None:
        unit = primary_unit_of(actor)
        if unit is None:
            raise ValidationFailed(
                _("You belong to no unit, so a survey of yours would have nowhere to live.")
            )
        return unit
    scope = scoping.scope_for(actor)
    if not (scope.is_system_admin or org_unit.pk in scope.member_units or org_unit.pk in scope.write_units):
        raise ValidationFailed(fields={"org_unit": _("Choose one of your units.")})
    return org_unit


@transaction.atomic
def survey_create(
    *, actor: User, data: dict, org_unit: OrgUnit | None = None, sections: list[dict] | None = None
) -> Survey:
    """A new draft with the given texts; its questionnaire is `sections` (see `survey_structure_set`) or one
    empty section to start from."""
    if not may_edit(actor):
        raise PermissionDenied()
    fields = _clean_survey({"title": "", **data})
    survey = Survey(owner=actor, org_unit=_unit_for(actor, org_unit), **fields)
    save_audited(survey, actor=actor, reason="created", bump_version=False)
    if sections:
        _structure_write(survey, sections)
    else:
        Section.objects.create(survey=survey, key="s1", position=0)
    return survey


@transaction.atomic
def survey_update(*, actor: User, survey: Survey, data: dict, version: int | None = None) -> Survey:
    """The texts and the link settings; allowed after publishing too (the questions are not touched)."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    check_version(survey, version, fields=SURVEY_FIELDS)
    current = {name: getattr(survey, name) for name in SURVEY_FIELDS}
    for name, value in _clean_survey({**current, **data}).items():
        setattr(survey, name, value)
    save_audited(survey, actor=actor, reason="edited")
    return survey


@transaction.atomic
def survey_publish(*, actor: User, survey: Survey) -> Survey:
    """Draft → published: the questionnaire is checked whole (logic included) and frozen."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    if not survey.is_draft:
        raise ValidationFailed(_("Only a draft can be published."))
    logic.publish_check(logic.structure_of(_sections(survey)))
    survey.status, survey.published_at = Survey.Status.PUBLISHED, timezone.now()
    save_audited(survey, actor=actor, reason="published")
    return survey


@transaction.atomic
def survey_close(*, actor: User, survey: Survey) -> Survey:
    """Published → closed: the links stop taking answers; results and the index stay."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    if survey.status != Survey.Status.PUBLISHED:
        raise ValidationFailed(_("Only a published survey can be closed."))
    survey.status, survey.closed_at = Survey.Status.CLOSED, timezone.now()
    save_audited(survey, actor=actor, reason="closed")
    return survey


@transaction.atomic
def survey_reopen(*, actor: User, survey: Survey) -> Survey:
    survey = _locked(survey)
    _require_edit(actor, survey)
    if survey.status != Survey.Status.CLOSED:
        raise ValidationFailed(_("Only a closed survey can be reopened."))
    survey.status, survey.closed_at = Survey.Status.PUBLISHED, None
    if survey.closes_at and survey.closes_at <= timezone.now():
        survey.closes_at = None
    save_audited(survey, actor=actor, reason="reopened")
    return survey


@transaction.atomic
def survey_public_link_renew(*, actor: User, survey: Survey) -> Survey:
    """A new anonymous link; the old one stops working (it was posted somewhere it should not be)."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    from kehu.surveys.models import new_public_key

    survey.public_key = new_public_key()
    save_audited(survey, actor=actor, reason="public link renewed")
    return survey


@transaction.atomic
def survey_copy(*, actor: User, survey: Survey) -> Survey:
    """A new draft with the same texts, questionnaire (codes and logic kept) and indicator tree."""
    if not may_edit(actor):
        raise PermissionDenied()
    copy = Survey(
        owner=actor,
        org_unit=_unit_for(actor, None),
        copied_from=survey,
        **{name: getattr(survey, name) for name in SURVEY_FIELDS if name != "closes_at"},
    )
    copy.title = (_("%(title)s (copy)") % {"title": survey.title})[:200]
    save_audited(copy, actor=actor, reason="copied", bump_version=False)
    _structure_write(copy, structure_data(survey))
    _indicators_write(copy, indicators_data(survey))
    return copy


@transaction.atomic
def survey_delete(*, actor: User, survey: Survey) -> None:
    survey = _locked(survey)
    _require_edit(actor, survey)
    move_to_recycle_bin(survey, actor=actor)


@transaction.atomic
def survey_restore(*, actor: User, survey_id: int) -> Survey:
    survey = (
        Survey.all_objects.select_for_update()
        .filter(scoping.visible_q(actor, Survey), pk=survey_id, deleted_at__isnull=False)
        .first()
    )
    if survey is None:
        raise NotFound()
    _require_edit(actor, survey)
    restore_from_recycle_bin(survey, actor=actor)
    return survey


def surveys_purge_expired(*, cutoff) -> int:
    """`recycle.purge`: surveys binned before `cutoff`, with their questions, invitations and responses (the
    customers' survey figures are read again)."""
    expired = Survey.all_objects.filter(deleted_at__lt=cutoff)
    customer_ids = list(
        Response.objects.filter(survey__in=expired, customer__isnull=False)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    count = expired.delete()[0]
    stats_rebuild(customer_ids=customer_ids)
    return count


# --- the questionnaire --------------------------------------------------------------------------------------------


def _sections(survey: Survey) -> list[Section]:
    return list(survey.sections.prefetch_related("questions").order_by("position", "id"))


def structure_data(survey: Survey) -> list[dict]:
    """The questionnaire as `survey_structure_set` takes it (and the API shows it)."""
    return [
        {
            "key": section.key,
            "title": section.title,
            "title_en": section.title_en,
            "description": section.description,
            "description_en": section.description_en,
            "questions": [
                {
                    "code": q.code,
                    "kind": q.kind,
                    "text": q.text,
                    "text_en": q.text_en,
                    "required": q.required,
                    "options": q.options,
                    "logic": q.logic,
                }
                for q in section.questions.all()
            ],
        }
        for section in _sections(survey)
    ]


def _next_code(taken: set[str], prefix: str) -> str:
    numbers = [
        int(m.group(1)) for c in taken if (m := re.fullmatch(rf"{prefix}(\d+)", c, flags=re.IGNORECASE))
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _check_saved(survey: Survey, question: Question | None = None) -> None:
    """After a builder step: the whole questionnaire must still hold (the step is rolled back if not). The
    question just written keeps its rules as cleaned (values in their types)."""
    checked = logic.structure_check(logic.structure_of(_sections(survey)))
    if question is not None:
        cleaned = next(q for s in checked for q in s.questions if q.code == question.code)
        if cleaned.logic != question.logic:
            Question.objects.filter(pk=question.pk).update(logic=cleaned.logic)
            question.logic = cleaned.logic


def _structure_write(survey: Survey, sections: list[dict]) -> None:
    """Replace the questionnaire with `sections`, keeping the rows (and so the ids, answers and indicator links)
    of sections and questions whose key and code stay. Keys and codes are made up where missing."""
    if not isinstance(sections, list) or not sections:
        raise ValidationFailed(fields={"sections": _("A questionnaire needs at least one section.")})
    errors: dict[str, str] = {}
    keys = {str(s.get("key") or "").strip()[:16] for s in sections if isinstance(s, dict)} - {""}
    codes = {
        str(q.get("code") or "").strip()[:16]
        for s in sections
        if isinstance(s, dict)
        for q in (s.get("questions") or [])
        if isinstance(q, dict)
    } - {""}
    plan: list[logic.S] = []
    texts: list[tuple[dict, list[dict]]] = []
    for index, section in enumerate(sections):
        if not isinstance(section, dict):
            errors[f"sections.{index}"] = _("A section needs a title and questions.")
            continue
        key = str(section.get("key") or "").strip()[:16]
        if not key:
            key = _next_code(keys, "s")
            keys.add(key)
        shown = logic.S(key=key)
        questions = section.get("questions") or []
        if not isinstance(questions, list):
            errors[f"sections.{index}.questions"] = _("Questions must be a list.")
            questions = []
        question_texts = []
        for q_index, question in enumerate(questions):
            where = f"sections.{index}.questions.{q_index}"
            if not isinstance(question, dict):
                errors[where] = _("A question needs a type and a text.")
                continue
            code = str(question.get("code") or "").strip()[:16]
            if not code:
                code = _next_code(codes, "Q")
                codes.add(code)
            text, text_en = _text(question.get("text"), 500), _text(question.get("text_en"), 500)
            if not text and not text_en:
                errors[f"{where}.text"] = _("Write the question.")
            shown.questions.append(
                logic.Q(
                    code=code,
                    kind=question.get("kind"),
                    required=bool(question.get("required", True)),
                    options=question.get("options") or [],
                    logic=question.get("logic") or [],
                    text=text,
                )
            )
            question_texts.append({"text": text, "text_en": text_en})
        plan.append(shown)
        texts.append((section, question_texts))
    if errors:
        raise ValidationFailed(_("The questionnaire has problems; see below."), fields=errors)
    plan = logic.structure_check(plan)

    existing_sections = {s.key: s for s in survey.sections.all()}
    existing_questions = {q.code: q for q in survey.questions.all()}
    kept_sections, kept_questions = set(), set()
    for position, (shown, (section, question_texts)) in enumerate(zip(plan, texts, strict=True)):
        row = existing_sections.get(shown.key) or Section(survey=survey, key=shown.key)
        row.position = position
        for name, limit in (
            ("title", 200),
            ("title_en", 200),
            ("description", 5000),
            ("description_en", 5000),
        ):
            setattr(row, name, _text(section.get(name), limit))
        row.save()
        kept_sections.add(row.pk)
        for q_position, (question, q_texts) in enumerate(zip(shown.questions, question_texts, strict=True)):
            q_row = existing_questions.get(question.code) or Question(survey=survey, code=question.code)
            q_row.section, q_row.position = row, q_position
            q_row.kind, q_row.required = question.kind, question.required
            q_row.options, q_row.logic = question.options, question.logic
            q_row.text, q_row.text_en = q_texts["text"], q_texts["text_en"]
            q_row.save()
            kept_questions.add(q_row.pk)
    survey.questions.exclude(pk__in=kept_questions).delete()
    survey.sections.exclude(pk__in=kept_sections).delete()


@transaction.atomic
def survey_structure_set(*, actor: User, survey: Survey, sections: list[dict]) -> Survey:
    """Replace a draft's questionnaire: sections [{key?, title, title_en, description, description_en,
    questions: [{code?, kind, text, text_en, required, options: [{value?, label, label_en}], logic: [{op,
    value, goto}]}]}]. Rows whose key or code stay are kept (and their indicator links with them)."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    _structure_write(survey, sections)
    save_audited(survey, actor=actor, reason="questions changed", bump_version=False)
    return survey


def _section_fields(data: dict) -> dict:
    return {
        "title": _text(data.get("title"), 200),
        "title_en": _text(data.get("title_en"), 200),
        "description": _text(data.get("description"), 5000),
        "description_en": _text(data.get("description_en"), 5000),
    }


@transaction.atomic
def section_add(*, actor: User, survey: Survey, data: dict) -> Section:
    survey = _locked(survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    position = (survey.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    key = _next_code(set(survey.sections.values_list("key", flat=True)), "s")
    section = Section(survey=survey, key=key, position=position, **_section_fields(data))
    save_audited(section, actor=actor, reason="created")
    return section


@transaction.atomic
def section_update(*, actor: User, section: Section, data: dict) -> Section:
    survey = _locked(section.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    for name, value in _section_fields(data).items():
        setattr(section, name, value)
    save_audited(section, actor=actor, reason="edited")
    return section


def _renumber(rows) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


@transaction.atomic
def section_move(*, actor: User, section: Section, up: bool) -> None:
    """Swap the section with its neighbour; refused when a jump would then lead backwards."""
    survey = _locked(section.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    rows = list(survey.sections.order_by("position", "id"))
    index = next(i for i, row in enumerate(rows) if row.pk == section.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rows):
        return
    rows[index], rows[other] = rows[other], rows[index]
    _renumber(rows)
    _check_saved(survey)


@transaction.atomic
def section_delete(*, actor: User, section: Section) -> None:
    """A section with its questions; refused for the last one, and while another question jumps to it."""
    survey = _locked(section.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    if survey.sections.count() == 1:
        raise ValidationFailed(_("A questionnaire needs at least one section."))
    pointing = [
        q.code
        for q in survey.questions.exclude(section=section)
        if any(rule.get("goto") == section.key for rule in q.logic or [])
    ]
    if pointing:
        raise ValidationFailed(
            _("%(codes)s jump to this section; change their skip logic first.")
            % {"codes": ", ".join(pointing)}
        )
    section.delete()
    _renumber(list(survey.sections.order_by("position", "id")))


def _question_fields(data: dict, kind: str) -> dict:
    text, text_en = _text(data.get("text"), 500), _text(data.get("text_en"), 500)
    if not text and not text_en:
        raise ValidationFailed(fields={"text": _("Write the question.")})
    errors: dict[str, str] = {}
    if kind not in QuestionKind.values:
        raise ValidationFailed(fields={"kind": _("Choose a question type.")})
    options = logic.options_check(kind, data.get("options") or [], "options", errors)
    if errors:
        raise ValidationFailed(fields={"options": " ".join(errors.values())})
    return {
        "kind": kind,
        "text": text,
        "text_en": text_en,
        "required": bool(data.get("required", True)),
        "options": options,
        "logic": data.get("logic") or [],
    }


@transaction.atomic
def question_add(*, actor: User, section: Section, data: dict) -> Question:
    """A question at the end of the section. `data`: kind, text, text_en, required, options, logic."""
    survey = _locked(section.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    code = _next_code(set(survey.questions.values_list("code", flat=True)), "Q")
    fields = _question_fields(data, data.get("kind"))
    position = (section.questions.aggregate(m=Max("position"))["m"] or 0) + 1
    question = Question(survey=survey, section=section, code=code, position=position, **fields)
    save_audited(question, actor=actor, reason="created")
    _check_saved(survey, question)
    return question


@transaction.atomic
def question_update(*, actor: User, question: Question, data: dict) -> Question:
    """The question's texts, required flag, options and skip logic (its type stays)."""
    survey = _locked(question.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    current = {
        "text": question.text,
        "text_en": question.text_en,
        "required": question.required,
        "options": question.options,
        "logic": question.logic,
    }
    fields = _question_fields({**current, **data}, question.kind)
    for name, value in fields.items():
        setattr(question, name, value)
    save_audited(question, actor=actor, reason="edited")
    _check_saved(survey, question)
    question.refresh_from_db()
    return question


@transaction.atomic
def question_move(*, actor: User, question: Question, up: bool) -> None:
    """One place up or down; past the top or bottom of its section it goes to the end of the section before or
    the start of the one after. Refused when its own jumps would then lead backwards."""
    survey = _locked(question.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    sections = list(survey.sections.order_by("position", "id"))
    section_index = next(i for i, s in enumerate(sections) if s.pk == question.section_id)
    rows = list(sections[section_index].questions.order_by("position", "id"))
    index = next(i for i, row in enumerate(rows) if row.pk == question.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
        _renumber(rows)
    else:
        target_index = section_index - 1 if up else section_index + 1
        if not 0 <= target_index < len(sections):
            return
        target = sections[target_index]
        others = list(target.questions.order_by("position", "id"))
        question.section = target
        question.position = len(others) if up else 0
        save_audited(question, actor=actor, reason="moved")
        _renumber([*others, question] if up else [question, *others])
        _renumber(list(sections[section_index].questions.order_by("position", "id")))
    _check_saved(survey)


@transaction.atomic
def question_delete(*, actor: User, question: Question) -> None:
    survey = _locked(question.survey)
    _require_edit(actor, survey)
    _require_draft(survey)
    section = question.section
    question.delete()
    _renumber(list(section.questions.order_by("position", "id")))


# --- the indicator tree -------------------------------------------------------------------------------------------

WEIGHT_TOLERANCE = Decimal("0.001")  # three weights of 0.3333 add up to 1


def indicators_data(survey: Survey) -> list[dict]:
    """The tree as `indicators_set` takes it: first-level indicators with their sub-indicators, questions by code."""
    nodes = list(survey.indicators.prefetch_related("questions").order_by("position", "id"))

    def shown(node):
        return {
            "name": node.name,
            "name_en": node.name_en,
            "weight": node.weight,
            "questions": sorted((q.code for q in node.questions.all()), key=_code_order),
            "children": [shown(child) for child in nodes if child.parent_id == node.pk],
        }

    return [shown(node) for node in nodes if node.parent_id is None]


def _code_order(code: str):
    match = re.fullmatch(r"[A-Za-z]*(\d+)", code)
    return (int(match.group(1)) if match else 0, code)


def _weight(raw, where: str, errors: dict) -> Decimal:
    try:
        weight = Decimal(str(raw)).quantize(Decimal("0.0001"))
    except (InvalidOperation, ValueError, TypeError):
        errors[f"{where}.weight"] = _("Enter a weight such as 0.25.")
        return Decimal(0)
    if not Decimal(0) < weight <= Decimal(1):
        errors[f"{where}.weight"] = _("A weight is more than 0 and at most 1.")
    return weight


def _indicators_check(survey: Survey, tree) -> list[dict]:
    if not isinstance(tree, list):
        raise ValidationFailed(fields={"indicators": _("The indicators must be a list.")})
    questions = {q.code: q for q in survey.questions.all()}
    used: dict[str, str] = {}
    errors: dict[str, str] = {}

    def node(raw, where: str, level: int) -> dict:
        if not isinstance(raw, dict):
            errors[where] = _("An indicator needs a name and a weight.")
            return {}
        name, name_en = _text(raw.get("name"), 100), _text(raw.get("name_en"), 100)
        if not name and not name_en:
            errors[f"{where}.name"] = _("Name the indicator.")
        children_raw = raw.get("children") or []
        if level == 2 and children_raw:
            errors[f"{where}.children"] = _("Sub-indicators have no indicators below them.")
            children_raw = []
        children = [node(child, f"{where}.children.{i}", 2) for i, child in enumerate(children_raw)]
        codes = [str(c) for c in raw.get("questions") or []]
        if children and codes:
            errors[f"{where}.questions"] = _(
                "An indicator with sub-indicators takes its score from them, not from questions."
            )
        if not children and not codes:
            errors[f"{where}.questions"] = _("Choose the questions that measure “%(name)s”.") % {
                "name": name or name_en
            }
        for code in codes:
            question = questions.get(code)
            if question is None:
                errors[f"{where}.questions"] = _("%(code)s is not a question of this survey.") % {
                    "code": code
                }
            elif question.kind not in SCORED_KINDS:
                errors[f"{where}.questions"] = _(
                    "%(code)s is not scored 1 to 5 (a 5-point scale or stars)."
                ) % {"code": code}
            elif code in used:
                errors[f"{where}.questions"] = _("%(code)s already measures “%(name)s”.") % {
                    "code": code,
                    "name": used[code],
                }
            else:
                used[code] = name or name_en
        _sum_check(children, f"{where}.children", errors)
        return {
            "name": name,
            "name_en": name_en,
            "weight": _weight(raw.get("weight"), where, errors),
            "questions": codes,
            "children": children,
        }

    cleaned = [node(raw, str(i), 1) for i, raw in enumerate(tree)]
    _sum_check(cleaned, "indicators", errors)
    if errors:
        raise ValidationFailed(_("The indicator tree has problems; see below."), fields=errors)
    return cleaned


def _sum_check(nodes: list[dict], where: str, errors: dict) -> None:
    if not nodes or any(not n for n in nodes):
        return
    total = sum((n.get("weight") or Decimal(0) for n in nodes), Decimal(0))
    if abs(total - 1) > WEIGHT_TOLERANCE:
        errors[where] = _("These weights add up to %(total)s; they must add up to 1.") % {
            "total": f"{total:.4f}"
        }


def _indicators_write(survey: Survey, tree: list[dict]) -> None:
    survey.indicators.all().delete()
    questions = {q.code: q.pk for q in survey.questions.all()}

    def write(nodes, parent):
        for position, raw in enumerate(nodes):
            indicator = Indicator.objects.create(
                survey=survey,
                parent=parent,
                position=position,
                name=raw["name"],
                name_en=raw.get("name_en", ""),
                weight=raw["weight"],
            )
            indicator.questions.set([questions[c] for c in raw.get("questions", []) if c in questions])
            write(raw.get("children", []), indicator)

    write(tree, None)


@transaction.atomic
def indicators_set(*, actor: User, survey: Survey, tree: list[dict]) -> list[dict]:
    """Replace the survey's indicator tree: [{name, name_en, weight, questions: [code …], children: [{name,
    name_en, weight, questions}]}]. First-level weights add up to 1, and so do the weights of the sub-indicators
    of each indicator; a leaf names one or more 1..5 questions, each question measures at most one leaf. The tree
    may change after publishing (it is how answers are read, not what was asked)."""
    survey = _locked(survey)
    _require_edit(actor, survey)
    cleaned = _indicators_check(survey, tree)
    _indicators_write(survey, cleaned)
    audit_event_record(
        actor=actor,
        action="survey_indicators",
        target=f"survey:{survey.pk}",
        detail={"indicators": _json_tree(cleaned)},
    )
    return indicators_data(survey)


def _json_tree(nodes: list[dict]) -> list[dict]:
    return [{**n, "weight": str(n["weight"]), "children": _json_tree(n.get("children", []))} for n in nodes]


# --- invitations --------------------------------------------------------------------------------------------------


def _clean_source(source) -> dict:
    """Where an invitation came from, as JSON: a dict as given ({"campaign": 12}, {"order": 345}), a text as
    {"text": …}."""
    if source is None or source == "":
        return {}
    if isinstance(source, str):
        return {"text": source.strip()[:500]}
    if isinstance(source, dict):
        if len(str(source)) > 2000:
            raise ValidationFailed(fields={"source": _("The source is too long.")})
        return source
    raise ValidationFailed(fields={"source": _("Give the source as a text or an object.")})


def _open_for_answers(survey: Survey, now: datetime.datetime) -> bool:
    return survey.status == Survey.Status.PUBLISHED and (survey.closes_at is None or survey.closes_at > now)


@transaction.atomic
def invitations_create_many(
    *,
    survey: Survey,
    customer_ids,
    channel: str,
    source=None,
    actor: User | None = None,
    now: datetime.datetime | None = None,
) -> dict[int, str]:
    """One new invitation per customer (each with its own link, valid for the survey's `link_days`) →
    {customer_id: absolute URL}. For marketing's campaigns, automations and the service desk: the caller has
    chosen the customers; with `actor` (the API, the pages) they must be customers the actor sees. Every id must
    name a customer; unknown ones are refused by name, never skipped."""
    now = now or timezone.now()
    if not _open_for_answers(survey, now):
        raise ValidationFailed(_("Invitations are made for a published survey that is still open."))
    if channel not in Invitation.Channel.values:
        raise ValidationFailed(fields={"channel": _("Choose a channel.")})
    try:
        ids = list(dict.fromkeys(int(i) for i in customer_ids))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"customer_ids": _("Customer ids are numbers.")}) from None
    if not ids:
        raise ValidationFailed(fields={"customer_ids": _("Choose at least one customer.")})
    if len(ids) > MAX_INVITATIONS:
        raise ValidationFailed(
            fields={"customer_ids": _("At most %(n)s customers at once.") % {"n": MAX_INVITATIONS}}
        )
    customers = Customer.objects.filter(pk__in=ids)
    if actor is not None:
        customers = customers.filter(scoping.visible_q(actor, Customer))
    found = set(customers.values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:20])
        raise ValidationFailed(fields={"customer_ids": _("No such customers: %(ids)s.") % {"ids": shown}})
    source = _clean_source(source)
    expires = now + datetime.timedelta(days=survey.link_days)
    made = Invitation.objects.bulk_create(
        [
            Invitation(
                survey=survey,
                customer_id=customer_id,
                channel=channel,
                source=source,
                created_by=actor,
                created_at=now,
                expires_at=expires,
            )
            for customer_id in ids
        ]
    )
    audit_event_record(
        actor=actor,
        action="survey_invitations",
        target=f"survey:{survey.pk}",
        detail={"customers": len(ids), "channel": channel, "source": source},
    )
    return {invitation.customer_id: links.invitation_url(invitation) for invitation in made}


def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    channel: str,
    source=None,
    actor: User | None = None,
    now: datetime.datetime | None = None,
) -> Invitation:
    """One customer's invitation; its absolute link is `invitation.url` (also `links.invitation_url`)."""
    invitations_create_many(
        survey=survey, customer_ids=[customer.pk], channel=channel, source=source, actor=actor, now=now
    )
    invitation = Invitation.objects.filter(survey=survey, customer=customer).order_by("-id").first()
    invitation.url = links.invitation_url(invitation)
    return invitation


def invitation_opened(*, invitation: Invitation) -> None:
    """The first time the link is opened (shown to the survey's owner as "opened")."""
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=timezone.now())


# --- answering ----------------------------------------------------------------------------------------------------


def public_answer_count(*, survey: Survey, ip: str) -> int:
    """Count an anonymous answer from this address (kept as a keyed hash) in the current hour; returns how many it
    gave. One person per browser cannot be enforced, so many answers are taken, but not a flood."""
    key = f"surveys:public:{survey.pk}:{capture_address(ip)[:32]}"
    cache.add(key, 0, timeout=PUBLIC_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=PUBLIC_WINDOW)
        return 1


def answering_state(
    *, survey: Survey, invitation: Invitation | None, now: datetime.datetime | None = None
) -> str:
    """ "open", or why the link takes no answer: "draft", "closed", "expired", "answered"."""
    now = now or timezone.now()
    if survey.status == Survey.Status.DRAFT:
        return "draft"
    if invitation is not None and Response.objects.filter(invitation=invitation).exists():
        return "answered"
    if not _open_for_answers(survey, now):
        return "closed"
    if invitation is None and not survey.anonymous_link:
        return "closed"
    if invitation is not None and invitation.expires_at <= now:
        return "expired"
    return "open"


def shop_of(*, customer: Customer | None, source: dict | None) -> int | None:
    """The shop a response is counted for: the order's shop when the invitation's source names an order of
    this customer ({"order": id}); otherwise the shop where the customer last bought (their marketplace
    identities); None for anonymous answers and customers who never bought in a shop."""
    if customer is None:
        return None
    order_id = (source or {}).get("order") if isinstance(source, dict) else None
    if isinstance(order_id, int) or (isinstance(order_id, str) and order_id.isdigit()):
        shop = (
            Order.objects.filter(pk=int(order_id), customer=customer, shop__isnull=False)
            .values_list("shop_id", flat=True)
            .first()
        )
        if shop is not None:
            return shop
    return (
        BuyerIdentity.objects.filter(customer=customer)
        .order_by(F("last_order_at").desc(nulls_last=True), "-id")
        .values_list("shop_id", flat=True)
        .first()
    )


@transaction.atomic
def response_submit(
    *,
    survey: Survey,
    posted: dict[str, list[str]],
    language: str = "",
    invitation: Invitation | None = None,
    now: datetime.datetime | None = None,
) -> Response:
    """Store a respondent's answers. `posted` maps question codes to the posted values. The answers are checked
    against the questionnaire: only those on the path the skip logic gives are kept, required questions on it
    must be answered, values must be options or on the scale. A customer's link takes one response
    (`AlreadyAnswered` after it, also under a race: the invitation is locked and the response unique)."""
    now = now or timezone.now()
    if invitation is not None:
        invitation = Invitation.objects.select_for_update().select_related("customer").get(pk=invitation.pk)
    state = answering_state(survey=survey, invitation=invitation, now=now)
    if state == "answered":
        raise AlreadyAnswered(_("This link has already been used to answer the survey."))
    if state == "expired":
        raise LinkExpired(_("This link has expired."))
    if state != "open":
        raise ValidationFailed(_("This survey is not taking answers."))
    sections = _sections(survey)
    answers, errors = logic.submission_clean(logic.structure_of(sections), posted)
    if errors:
        raise ValidationFailed(_("Some answers are missing or not valid."), fields=errors)
    if not answers:
        raise ValidationFailed(_("Answer at least one question."))
    customer = invitation.customer if invitation is not None else None
    try:
        with transaction.atomic():
            response = Response.objects.create(
                survey=survey,
                invitation=invitation,
                customer=customer,
                shop_id=shop_of(customer=customer, source=invitation.source if invitation else None),
                language=(language or "")[:8],
                submitted_at=now,
            )
    except IntegrityError as exc:
        raise AlreadyAnswered(_("This link has already been used to answer the survey.")) from exc
    questions = {q.code: q for s in sections for q in s.questions.all()}
    rows = []
    for code, answer in answers.items():
        question = questions[code]
        if question.kind == QuestionKind.MULTIPLE:
            rows += [Answer(response=response, question=question, choice=value) for value in answer]
        elif question.kind == QuestionKind.SINGLE:
            rows.append(Answer(response=response, question=question, choice=answer))
        elif question.kind == QuestionKind.TEXT:
            rows.append(Answer(response=response, question=question, text=answer))
        else:
            rows.append(Answer(response=response, question=question, number=answer))
    Answer.objects.bulk_create(rows)
    if customer is not None:
        _stats_after(customer_id=customer.pk, response=response, answers=answers, questions=questions)
    return response


def _stats_after(*, customer_id: int, response: Response, answers: dict, questions: dict) -> None:
    """The customer's latest figures after a response (one submitted earlier than the figures' own does not
    replace them: the demo and imports write the past)."""
    stats, _created = CustomerSurveyStats.objects.select_for_update().get_or_create(customer_id=customer_id)
    at = response.submitted_at
    stats.responses += 1
    if stats.last_response_at is None or at >= stats.last_response_at:
        stats.last_response_at = at
    nps = [a for code, a in answers.items() if questions[code].kind == QuestionKind.NPS]
    if nps and (stats.last_nps_at is None or at >= stats.last_nps_at):
        stats.last_nps, stats.last_nps_at = nps[0], at
    scored = [a for code, a in answers.items() if questions[code].kind in SCORED_KINDS]
    if scored and (stats.last_satisfaction_at is None or at >= stats.last_satisfaction_at):
        mean = Decimal(sum(scored)) / len(scored)
        stats.last_satisfaction, stats.last_satisfaction_at = mean.quantize(Decimal("0.01")), at
    stats.save()


def stats_rebuild(*, customer_ids) -> None:
    """Read the customers' survey figures again from their responses (after a merge or a purge)."""
    for customer_id in set(customer_ids):
        CustomerSurveyStats.objects.filter(customer_id=customer_id).delete()
        if not Customer.all_objects.filter(pk=customer_id).exists():
            continue
        responses = list(
            Response.objects.filter(customer_id=customer_id)
            .order_by("submitted_at", "id")
            .prefetch_related("answers__question")
        )
        for response in responses:
            answers, questions = {}, {}
            for answer in response.answers.all():
                question = answer.question
                questions[question.code] = question
                if answer.number is not None:
                    answers[question.code] = answer.number
            _stats_after(customer_id=customer_id, response=response, answers=answers, questions=questions)


def customers_merged(*, actor, survivor: Customer, merged: Customer) -> dict:
    """`customer.merged`: the merged customer's invitations and responses belong to the survivor."""
    invitations = Invitation.objects.filter(customer=merged).update(customer=survivor)
    responses = Response.objects.filter(customer=merged).update(customer=survivor)
    stats_rebuild(customer_ids=[survivor.pk, merged.pk])
    return {"survey_responses": responses, "survey_invitations": invitations}


def throttle_check(*, survey: Survey, ip: str) -> None:
    if public_answer_count(survey=survey, ip=ip) > PUBLIC_PER_WINDOW:
        raise Throttled(
            _(
                "Many answers have come from your network in the last hour. Thank you — please try again later."
            )
        )
