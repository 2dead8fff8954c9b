"""The questionnaire builder: skip logic is checked (targets exist, jumps lead forward, operators and values fit
the question), builder steps that would break it are refused and rolled back, publishing checks the whole and
freezes the questions, and a copy is the way to change them."""

import copy

import pytest

from kehu.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from kehu.surveys import logic, services
from kehu.surveys.models import Question, Survey
from kehu.surveys.tests.helpers import QUESTIONNAIRE

pytestmark = pytest.mark.usefixtures("english")


def with_rule(section_index: int, question_index: int, rule: dict) -> list[dict]:
    sections = copy.deepcopy(QUESTIONNAIRE)
    sections[section_index]["questions"][question_index]["logic"] = [rule]
    return sections


@pytest.mark.parametrize(
    ("where", "rule", "message"),
    [
        ((2, 0), {"op": "lte", "value": 2, "goto": "s9"}, "does not exist"),  # Q5 is text: no rules at all
        ((0, 0), {"op": "lte", "value": 2, "goto": "s9"}, "does not exist"),
        ((1, 1), {"op": "gte", "value": 9, "goto": "s1"}, "earlier section"),  # Q4 in s2 back to s1
        ((1, 1), {"op": "gte", "value": 9, "goto": "s2"}, "earlier section"),  # its own section: a loop
        ((0, 0), {"op": "lte", "value": 6, "goto": "s3"}, "1 to 5"),  # the 5-point scale
        ((1, 1), {"op": "in", "value": ["a"], "goto": "s3"}, "Q4"),  # NPS has no "in"
        ((1, 0), {"op": "any", "value": ["weibo"], "goto": "s3"}, "weibo"),  # not an option of Q3
    ],
)
def test_broken_skip_logic_is_refused_by_place(org, where, rule, message):
    """Given a rule that jumps nowhere, backwards, into its own section, or with a value the question cannot
    have, when the questionnaire is saved, then it is refused naming the question's rule."""
    sections = with_rule(*where, rule)
    with pytest.raises(ValidationFailed) as refused:
        services.survey_create(actor=org.rep_a, data={"title": "坏逻辑"}, sections=sections)
    code = sections[where[0]]["questions"][where[1]]["code"]
    assert any(key.startswith(f"{code}.logic") for key in refused.value.fields), refused.value.fields
    text = " ".join(refused.value.fields.values())
    assert message in text or (message == "does not exist" and "Free-text" in text)
    assert not Survey.objects.filter(title="坏逻辑").exists()  # nothing half-saved


def test_a_forward_jump_to_a_later_section_or_the_end_is_accepted(org, make_survey):
    survey = make_survey(publish=False)
    q1 = survey.questions.get(code="Q1")
    assert q1.logic == [{"op": "lte", "value": 2, "goto": "s3"}]
    assert survey.questions.get(code="Q6").logic == [{"op": "in", "value": ["no"], "goto": "end"}]
    assert [o["value"] for o in survey.questions.get(code="Q3").options] == ["tmall", "jd", "store"]


def test_choice_questions_need_two_options_and_codes_are_unique(org):
    sections = copy.deepcopy(QUESTIONNAIRE)
    sections[1]["questions"][0]["options"] = [{"label": "只有一个"}]
    sections[3]["questions"][0]["code"] = "Q1"
    with pytest.raises(ValidationFailed) as refused:
        services.survey_create(actor=org.rep_a, data={"title": "x"}, sections=sections)
    assert "Q3.options" in refused.value.fields and "questions" in refused.value.fields


def test_builder_steps_that_would_break_the_logic_are_refused_and_rolled_back(org, make_survey):
    """Moving the section a jump leads to before the jumping question, deleting a section a rule names, or
    editing a rule to jump backwards: each is refused with the reason, and nothing changes."""
    survey = make_survey(publish=False)
    s3 = survey.sections.get(key="s3")
    services.section_move(actor=org.rep_a, section=s3, up=True)  # s3 before s2 is fine …
    with pytest.raises(ValidationFailed):
        services.section_move(actor=org.rep_a, section=s3, up=True)  # … but not before s1, Q1's own section
    assert list(survey.sections.values_list("key", flat=True)) == [
        "s1",
        "s3",
        "s2",
        "s4",
    ]  # the first move held

    with pytest.raises(ValidationFailed) as refused:
        services.section_delete(actor=org.rep_a, section=s3)
    assert "Q1" in str(refused.value.message)
    assert survey.sections.filter(key="s3").exists()

    q4 = survey.questions.get(code="Q4")
    with pytest.raises(ValidationFailed) as refused:
        services.question_update(
            actor=org.rep_a, question=q4, data={"logic": [{"op": "gte", "value": 9, "goto": "s1"}]}
        )
    assert "Q4.logic.0" in refused.value.fields
    q4.refresh_from_db()
    assert q4.logic == []


def test_adding_moving_and_deleting_questions_keeps_positions_and_codes(org, make_survey):
    survey = make_survey(publish=False)
    s4 = survey.sections.get(key="s4")
    added = services.question_add(
        actor=org.rep_a, section=s4, data={"kind": "single", "text": "会再来吗？", "options": ["会", "不会"]}
    )
    assert added.code == "Q8" and [o["value"] for o in added.options] == ["o1", "o2"]
    services.question_move(actor=org.rep_a, question=added, up=True)
    services.question_move(actor=org.rep_a, question=added, up=True)  # past the top: into s3, at its end
    added.refresh_from_db()
    assert added.section.key == "s3"
    assert list(added.section.questions.values_list("code", flat=True)) == ["Q5", "Q6", "Q8"]
    services.question_delete(actor=org.rep_a, question=survey.questions.get(code="Q5"))
    assert list(added.section.questions.values_list("code", "position")) == [("Q6", 0), ("Q8", 1)]
    section = services.section_add(actor=org.rep_a, survey=survey, data={"title": "附加"})
    assert section.key == "s5" and section.position == 4


def test_publishing_checks_the_whole_and_freezes_the_questions(org, make_survey):
    empty = services.survey_create(actor=org.rep_a, data={"title": "空问卷"})
    with pytest.raises(ValidationFailed, match="at least one question"):
        services.survey_publish(actor=org.rep_a, survey=empty)

    survey = make_survey()
    assert survey.status == Survey.Status.PUBLISHED and survey.published_at is not None
    q1 = survey.questions.get(code="Q1")
    for step in (
        lambda: services.question_update(actor=org.rep_a, question=q1, data={"text": "改"}),
        lambda: services.question_add(
            actor=org.rep_a, section=q1.section, data={"kind": "text", "text": "新"}
        ),
        lambda: services.question_delete(actor=org.rep_a, question=q1),
        lambda: services.section_add(actor=org.rep_a, survey=survey, data={}),
        lambda: services.survey_structure_set(actor=org.rep_a, survey=survey, sections=QUESTIONNAIRE),
    ):
        with pytest.raises(Conflict, match="Copy it into a new draft"):
            step()
    # the texts stay editable
    services.survey_update(actor=org.rep_a, survey=survey, data={"intro": "新的说明"}, version=survey.version)

    draft = services.survey_copy(actor=org.rep_a, survey=survey)
    assert draft.status == Survey.Status.DRAFT and draft.copied_from == survey
    assert list(draft.questions.values_list("code", flat=True)) == [f"Q{n}" for n in range(1, 8)]
    assert draft.questions.get(code="Q1").logic == q1.logic
    services.question_update(actor=org.rep_a, question=draft.questions.get(code="Q1"), data={"text": "改"})
    assert Question.objects.get(pk=q1.pk).text == "您对我们的服务满意吗？"


def test_only_the_owner_and_the_units_managers_change_a_survey(org, make_survey):
    survey = make_survey(publish=False)
    for outsider in (org.rep_a2, org.rep_b, org.analyst):
        with pytest.raises(PermissionDenied):
            services.section_add(actor=outsider, survey=survey, data={})
    services.section_add(actor=org.east_manager, survey=survey, data={})


def test_the_path_skips_sections_and_drops_answers_off_it():
    """Pure logic: the path and the cleaning of a submission (see test_answering for the pages)."""
    sections = [
        logic.S(
            "s1",
            [
                logic.Q("Q1", "likert", logic=[{"op": "lte", "value": 2, "goto": "s3"}]),
                logic.Q("Q2", "text", required=False),
            ],
        ),
        logic.S("s2", [logic.Q("Q3", "nps")]),
        logic.S("s3", [logic.Q("Q4", "text")]),
    ]
    assert [q.code for q in logic.path_of(sections, {"Q1": 2})] == ["Q1", "Q4"]
    assert [q.code for q in logic.path_of(sections, {"Q1": 4})] == ["Q1", "Q2", "Q3", "Q4"]
    answers, errors = logic.submission_clean(
        sections, {"Q1": ["1"], "Q2": ["跳过的"], "Q3": ["10"], "Q4": [""]}
    )
    assert answers == {"Q1": 1} and errors == {"Q4": "Please answer this question."}
    answers, errors = logic.submission_clean(sections, {"Q1": ["6"], "Q3": ["x"], "Q4": ["好"]})
    assert set(errors) == {"Q1", "Q3"} and answers == {"Q4": "好"}
