"""The questionnaire's structure and skip logic, checked and followed without the database.

A questionnaire is a list of sections in order, each with its questions in order. A question may carry rules
read after it is answered, first match wins:

    {"op": "lte", "value": 2, "goto": "s4"}     # 不满意 or worse on a 5-point scale: go to section s4
    {"op": "in", "value": ["o2"], "goto": "end"} # chose option o2: the questionnaire ends here

Operators by question type: single choice `in`; multiple choice `any` (one of the values chosen); scales
(5-point, stars, NPS) `lte`, `gte`, `eq`; free text has no rules. A rule jumps forward only — to a section after
the question's own, or to the end — so no path can loop, and every target must exist (`structure_check`).

The path a respondent takes (`path_of`): sections are walked in order; within a section, each question is on
the path; when an answered question's rule matches, the rest of its section and the sections up to the target
are skipped. `submission_clean` parses a submission, keeps only the answers on that path (answers to skipped
questions are discarded) and requires the required questions on it. The page hides skipped sections as the
respondent answers (`surveys/answer.js`), but the server decides.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from kehu.core.exceptions import ValidationFailed
from kehu.surveys.models import CHOICE_KINDS, QuestionKind

END = "end"
SCALE_RANGE = {
    QuestionKind.LIKERT: (1, 5),
    QuestionKind.RATING: (1, 5),
    QuestionKind.NPS: (0, 10),
}
OPS = {
    QuestionKind.SINGLE: ("in",),
    QuestionKind.MULTIPLE: ("any",),
    QuestionKind.LIKERT: ("lte", "gte", "eq"),
    QuestionKind.RATING: ("lte", "gte", "eq"),
    QuestionKind.NPS: ("lte", "gte", "eq"),
    QuestionKind.TEXT: (),
}
MAX_OPTIONS = 30
MAX_TEXT = 5000  # characters of a free-text answer
MAX_QUESTIONS = 200


@dataclass
class Q:
    code: str
    kind: str
    required: bool = True
    options: list = field(default_factory=list)
    logic: list = field(default_factory=list)
    text: str = ""

    @property
    def option_values(self) -> list[str]:
        return [o.get("value") for o in self.options]


@dataclass
class S:
    key: str
    questions: list[Q] = field(default_factory=list)


def structure_of(sections) -> list[S]:
    """The check's view of saved sections (each with `questions` prefetched or not)."""
    return [
        S(
            key=section.key,
            questions=[
                Q(
                    code=q.code,
                    kind=q.kind,
                    required=q.required,
                    options=q.options,
                    logic=q.logic,
                    text=q.text,
                )
                for q in section.questions.all()
            ],
        )
        for section in sections
    ]


# --- checking -----------------------------------------------------------------------------------------------------


def options_check(kind: str, options, where: str, errors: dict) -> list[dict]:
    """Choice options cleaned: at least two, each with a Chinese or English label, values unique (made up as
    o1, o2 … when not given). Other kinds have none."""
    if kind not in CHOICE_KINDS:
        return []
    if not isinstance(options, list):
        errors[f"{where}.options"] = _("Options must be a list.")
        return []
    cleaned, seen = [], set()
    for index, option in enumerate(options):
        if isinstance(option, str):
            option = {"label": option}
        if not isinstance(option, dict):
            errors[f"{where}.options.{index}"] = _("An option needs a label.")
            continue
        label = str(option.get("label") or "").strip()[:200]
        label_en = str(option.get("label_en") or "").strip()[:200]
        if not label and not label_en:
            errors[f"{where}.options.{index}"] = _("An option needs a label.")
            continue
        value = str(option.get("value") or "").strip()[:16]
        if not value:
            value = next(f"o{n}" for n in range(1, 1000) if f"o{n}" not in seen)
        if value in seen:
            errors[f"{where}.options.{index}"] = _("Two options have the value “%(value)s”.") % {
                "value": value
            }
            continue
        seen.add(value)
        cleaned.append({"value": value, "label": label, "label_en": label_en})
    if len(cleaned) < 2 and f"{where}.options" not in errors:
        errors[f"{where}.options"] = _("A choice question needs at least two options.")
    if len(cleaned) > MAX_OPTIONS:
        errors[f"{where}.options"] = _("At most %(n)s options.") % {"n": MAX_OPTIONS}
    return cleaned


def _rule_value(question: Q, op: str, raw):
    if question.kind in CHOICE_KINDS:
        values = raw if isinstance(raw, list) else [raw]
        values = [str(v) for v in values if str(v or "").strip()]
        if not values:
            raise ValueError(_("Choose at least one option."))
        unknown = [v for v in values if v not in question.option_values]
        if unknown:
            raise ValueError(_("“%(value)s” is not an option of this question.") % {"value": unknown[0]})
        return values
    low, high = SCALE_RANGE[question.kind]
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ValueError(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}) from None
    if not low <= number <= high or str(raw).strip() not in (str(number), f"{number}.0"):
        raise ValueError(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return number


def rules_check(question: Q, section_index: int, keys: list[str], where: str, errors: dict) -> list[dict]:
    """The question's rules cleaned, or errors naming each wrong rule: an operator the type has not, a value
    that is no option or out of the scale, a target that does not exist, or one that is not after the
    question's section (a jump back, or into its own section, could loop)."""
    logic = question.logic or []
    if not isinstance(logic, list):
        errors[f"{where}.logic"] = _("Skip logic must be a list of rules.")
        return []
    if logic and not OPS[question.kind]:
        errors[f"{where}.logic"] = _("Free-text questions cannot have skip logic.")
        return []
    cleaned = []
    for index, rule in enumerate(logic):
        path = f"{where}.logic.{index}"
        if not isinstance(rule, dict):
            errors[path] = _("A rule needs an operator, a value and where to go.")
            continue
        op = rule.get("op")
        if op not in OPS[question.kind]:
            errors[path] = _("Choose a condition for %(code)s.") % {"code": question.code}
            continue
        try:
            value = _rule_value(question, op, rule.get("value"))
        except ValueError as exc:
            errors[path] = f"{question.code}: {exc}"
            continue
        goto = str(rule.get("goto") or "")
        if goto != END and goto not in keys:
            errors[path] = _("%(code)s jumps to a section that does not exist.") % {"code": question.code}
            continue
        if goto != END and keys.index(goto) <= section_index:
            errors[path] = _(
                "%(code)s jumps back to an earlier section or its own, which could loop; jump to a later "
                "section or to the end."
            ) % {"code": question.code}
            continue
        cleaned.append({"op": op, "value": value, "goto": goto})
    return cleaned


def structure_check(sections: list[S]) -> list[S]:
    """The whole questionnaire checked: unique section keys and question codes, options, and every rule.
    Returns it with options and rules cleaned, or raises ValidationFailed naming each problem by place
    (`Q3.logic.0`)."""
    errors: dict[str, str] = {}
    keys = [s.key for s in sections]
    if len(set(keys)) != len(keys):
        errors["sections"] = _("Two sections have the same key.")
    codes = [q.code for s in sections for q in s.questions]
    if len(set(codes)) != len(codes):
        errors["questions"] = _("Two questions have the same code.")
    if len(codes) > MAX_QUESTIONS:
        errors["questions"] = _("At most %(n)s questions.") % {"n": MAX_QUESTIONS}
    for index, section in enumerate(sections):
        for question in section.questions:
            if question.kind not in OPS:
                errors[f"{question.code}.kind"] = _("Choose a question type.")
                continue
            question.options = options_check(question.kind, question.options, question.code, errors)
            question.logic = rules_check(question, index, keys, question.code, errors)
    if errors:
        raise ValidationFailed(_("The questionnaire has problems; see below."), fields=errors)
    return sections


def publish_check(sections: list[S]) -> None:
    structure_check(sections)
    if not any(s.questions for s in sections):
        raise ValidationFailed(_("Add at least one question before publishing."))


# --- following ----------------------------------------------------------------------------------------------------


def _matches(rule: dict, kind: str, answer) -> bool:
    op, value = rule["op"], rule["value"]
    if kind == QuestionKind.SINGLE:
        return answer in value
    if kind == QuestionKind.MULTIPLE:
        return bool(set(answer) & set(value))
    return {"lte": answer <= value, "gte": answer >= value, "eq": answer == value}[op]


def jump_of(question: Q, answer) -> str | None:
    """Where an answer sends the respondent (a section key or "end"), None to go on."""
    if answer is None or answer == [] or answer == "":
        return None
    for rule in question.logic or []:
        if _matches(rule, question.kind, answer):
            return rule["goto"]
    return None


def path_of(sections: list[S], answers: dict) -> list[Q]:
    """The questions on the respondent's path, in order, given their (clean) answers by code."""
    keys = [s.key for s in sections]
    taken: list[Q] = []
    index = 0
    while index < len(sections):
        target = None
        for question in sections[index].questions:
            taken.append(question)
            target = jump_of(question, answers.get(question.code))
            if target is not None:
                break
        if target == END:
            break
        index = keys.index(target) if target is not None else index + 1
    return taken


def _parse(question: Q, raw: list[str]):
    """One question's posted values → its answer (None when unanswered), or ValueError saying what is wrong."""
    values = [v.strip() for v in raw if v is not None and v.strip() != ""]
    if not values:
        return None
    if question.kind == QuestionKind.TEXT:
        text = "\n".join(values)
        if len(text) > MAX_TEXT:
            raise ValueError(_("At most %(n)s characters.") % {"n": MAX_TEXT})
        return text
    if question.kind == QuestionKind.MULTIPLE:
        unknown = [v for v in values if v not in question.option_values]
        if unknown:
            raise ValueError(_("Choose from the options."))
        return sorted(set(values), key=question.option_values.index)
    if len(values) > 1:
        raise ValueError(_("Choose one answer."))
    if question.kind == QuestionKind.SINGLE:
        if values[0] not in question.option_values:
            raise ValueError(_("Choose from the options."))
        return values[0]
    low, high = SCALE_RANGE[question.kind]
    if not values[0].isdigit() or not low <= int(values[0]) <= high:
        raise ValueError(_("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high})
    return int(values[0])


def submission_clean(sections: list[S], posted: dict[str, list[str]]) -> tuple[dict, dict]:
    """(answers by code on the path, errors by code). `posted` maps a question's code to its posted values.
    Answers to questions off the path are dropped; a required question on it without an answer is an error."""
    answers, errors = {}, {}
    for section in sections:
        for question in section.questions:
            try:
                answer = _parse(question, posted.get(question.code, []))
            except ValueError as exc:
                errors[question.code] = str(exc)
                continue
            if answer is not None:
                answers[question.code] = answer
    on_path = path_of(sections, answers)
    codes = {q.code for q in on_path}
    answers = {code: answer for code, answer in answers.items() if code in codes}
    errors = {code: message for code, message in errors.items() if code in codes}
    for question in on_path:
        if question.required and question.code not in answers and question.code not in errors:
            errors[question.code] = _("Please answer this question.")
    return answers, errors
