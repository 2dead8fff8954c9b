"""Surveys: questionnaires in two languages (sections, questions, skip logic), the invitations that carry a
customer's own link, the responses and their answers, and the weighted indicator tree of a satisfaction index.

A survey is scoped like a marketing segment (its owner, and the managers of its org unit). Its responses are read
through `kehu.surveys.selectors.response_scope` only: the responses of a survey the reader sees whose customer the
reader sees, plus the anonymous ones (a response has no SCOPE of its own because that rule is not one ScopeSpec).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import SoftDeleteModel, TimeStampedModel, VersionedModel
from kehu.customers.models import Customer
from kehu.sales.models import Shop
from kehu.users.models import OrgUnit
from kehu.users.scoping import ScopeSpec


def in_language(zh: str, en: str) -> str:
    """The text in the active language: English when the reader reads English and there is an English text,
    else the Chinese one (and the English one when only that exists)."""
    if (get_language() or "").startswith("en"):
        return en or zh
    return zh or en


def new_public_key() -> str:
    return secrets.token_urlsafe(12)


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    LIKERT = "likert", _("5-point satisfaction scale")
    NPS = "nps", _("Recommendation (NPS 0–10)")
    RATING = "rating", _("Stars (1–5)")
    TEXT = "text", _("Free text")


# The 5-point scale as stored: 5 is 非常满意 (the only answer that counts as fully satisfied) … 1 非常不满意.
LIKERT_LABELS = {
    5: _("Fully satisfied"),
    4: _("Satisfied"),
    3: _("Neutral"),
    2: _("Dissatisfied"),
    1: _("Very dissatisfied"),
}
SCORED_KINDS = (QuestionKind.LIKERT, QuestionKind.RATING)  # 1..5, what an indicator averages
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Survey(SoftDeleteModel, VersionedModel, TimeStampedModel):
    """A questionnaire. Draft → published (answerable; its sections and questions are frozen) → closed. Every text
    has a Chinese and an English version; the respondent reads their language (the other when one is empty)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    intro = models.TextField(_("introduction (Chinese)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    thanks = models.TextField(_("thank-you text (Chinese)"), blank=True)
    thanks_en = models.TextField(_("thank-you text (English)"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    anonymous_link = models.BooleanField(
        _("anonymous link"),
        default=True,
        help_text=_(
            "Anyone with the public link may answer (many times; answers from one address are limited)."
        ),
    )
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key, editable=False)
    link_days = models.PositiveSmallIntegerField(
        _("days a customer's link stays valid"), default=30, help_text=_("From when the invitation is made.")
    )
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        editable=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = ScopeSpec(owner="owner", unit="org_unit")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(condition=models.Q(link_days__gte=1), name="survey_link_days_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def shown_title(self) -> str:
        return in_language(self.title, self.title_en)

    @property
    def shown_intro(self) -> str:
        return in_language(self.intro, self.intro_en)

    @property
    def shown_thanks(self) -> str:
        return in_language(self.thanks, self.thanks_en)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Section(models.Model):
    """A page of the questionnaire. `key` names it in skip logic ("go to s4"); sections are shown by position."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(_("key"), max_length=16)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [models.UniqueConstraint(fields=["survey", "key"], name="survey_section_key_once")]

    def __str__(self) -> str:
        return self.title or self.key

    @property
    def shown_title(self) -> str:
        return in_language(self.title, self.title_en)

    @property
    def shown_description(self) -> str:
        return in_language(self.description, self.description_en)


class Question(models.Model):
    """One question. `code` (Q1, Q2 …) names it in skip logic, indicators and exports. Choice questions keep
    their options as [{"value", "label", "label_en"}]; `logic` is a list of rules {"op", "value", "goto"} read in
    order after the question is answered: the first that matches jumps to a later section's key or "end"."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    code = models.CharField(_("code"), max_length=16)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("type"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question (Chinese)"), max_length=500)
    text_en = models.CharField(_("question (English)"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=True)
    options = models.JSONField(_("options"), default=list, blank=True)
    logic = models.JSONField(_("skip logic"), default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["section__position", "position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [models.UniqueConstraint(fields=["survey", "code"], name="survey_question_code_once")]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def shown_text(self) -> str:
        return in_language(self.text, self.text_en)

    def option_label(self, value: str) -> str:
        for option in self.options:
            if option.get("value") == value:
                return in_language(option.get("label", ""), option.get("label_en", ""))
        return value

    @property
    def shown_options(self) -> list[tuple[str, str]]:
        return [(o["value"], in_language(o.get("label", ""), o.get("label_en", ""))) for o in self.options]


class Indicator(models.Model):
    """A node of the satisfaction index tree: first-level indicators (weights summing to 1) and their
    sub-indicators (weights summing to 1 within their parent). A leaf averages its 1..5 questions."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=4)
    questions = models.ManyToManyField(Question, verbose_name=_("questions"), blank=True, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gt=0, weight__lte=1), name="indicator_weight_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return in_language(self.name, self.name_en)


class Invitation(models.Model):
    """A customer's own link to a survey: one response at most, valid until `expires_at`. `source` records where
    it came from ({"campaign": 12}, {"order": 345}, {"ticket": "T…"}, or a text)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("Text message")
        WECHAT = "wechat", _("WeChat")
        LINK = "link", _("Link handed out")
        OTHER = "other", _("Other")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.LINK)
    source = models.JSONField(_("source"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [
            models.Index(fields=["survey", "-created_at"], name="survey_invitation_recent"),
            models.Index(fields=["customer"], name="survey_invitation_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.customer_id}"


class Response(models.Model):
    """One submitted questionnaire: anonymous (public link) or a customer's (their invitation, at most one
    response per invitation). `shop` is where the customer buys, fixed at submission (see services)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="response"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [
            models.Index(fields=["survey", "submitted_at"], name="survey_response_time"),
            models.Index(fields=["customer", "-submitted_at"], name="survey_response_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}#{self.pk}"


class Answer(models.Model):
    """One answer: `number` for scales (Likert 5..1, stars 1..5, NPS 0..10), `choice` for a chosen option (a
    multiple-choice answer is one row per option), `text` for free text."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question", "choice"], name="survey_answer_once"),
        ]
        indexes = [
            models.Index(fields=["question", "number"], name="survey_answer_number"),
            models.Index(fields=["question", "choice"], name="survey_answer_choice"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}:{self.question_id}"


class CustomerSurveyStats(models.Model):
    """A customer's latest survey figures, kept by the submit service so that marketing segments can select by
    them with a plain lookup (`survey_stats__last_nps`)."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="survey_stats"
    )
    responses = models.PositiveIntegerField(_("responses"), default=0)
    last_response_at = models.DateTimeField(_("last response"), null=True, blank=True)
    last_nps = models.SmallIntegerField(_("last NPS score"), null=True, blank=True)
    last_nps_at = models.DateTimeField(null=True, blank=True)
    last_satisfaction = models.DecimalField(
        _("last satisfaction (1–5)"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    last_satisfaction_at = models.DateTimeField(null=True, blank=True)

    SCOPE = ScopeSpec(via="customer")

    class Meta:
        verbose_name = _("survey figures of a customer")
        verbose_name_plural = _("survey figures of customers")

    def __str__(self) -> str:
        return str(self.customer_id)
