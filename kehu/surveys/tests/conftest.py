"""The survey tests' fixture: a survey built through the services."""

import pytest

from kehu.surveys import services
from kehu.surveys.tests.helpers import QUESTIONNAIRE


@pytest.fixture
def make_survey(org):
    """make_survey(actor, sections=QUESTIONNAIRE, publish=True, **texts) → a survey built through the services."""

    def make(actor=None, *, sections=None, publish=True, **texts):
        actor = actor or org.rep_a
        survey = services.survey_create(
            actor=actor,
            data={"title": texts.pop("title", "客户满意度调查"), "title_en": "Satisfaction survey", **texts},
            sections=sections if sections is not None else QUESTIONNAIRE,
        )
        if publish:
            survey = services.survey_publish(actor=actor, survey=survey)
        return survey

    return make


@pytest.fixture
def english():
    """Messages checked by their English text (the zh-Hans catalogue would translate them)."""
    from django.utils import translation

    with translation.override("en"):
        yield
