"""The staff pages render and work: the list (with its empty state), a new survey, the builder's htmx steps,
publishing, distribution (links for customers, the links' export), results with charts and a cross-tab, the
index, the indicator tree, the preview, the recycle bin, and the demo data."""

from kehu.surveys import demo, services
from kehu.surveys.models import Invitation, Question, Response, Survey
from kehu.surveys.tests.helpers import answer

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_empty_list_offers_a_new_survey_and_the_template(org, login):
    client = login(org.rep_a)
    page = client.get("/surveys/").content.decode()
    assert 'data-testid="empty-surveys"' in page and 'data-testid="new-survey"' in page
    made = client.post("/surveys/from-template/")
    survey = Survey.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/surveys/{survey.pk}/edit/"
    assert survey.questions.count() == 20 and survey.indicators.filter(parent__isnull=True).count() == 5
    assert "顾客满意度调查" in client.get("/surveys/").content.decode()
    assert "顾客满意度调查" not in login(org.rep_b).get("/surveys/").content.decode()


def test_building_a_survey_step_by_step_with_htmx(org, login):
    client = login(org.rep_a)
    created = client.post("/surveys/new/", {"title": "门店回访", "title_en": "Store visit", "link_days": 14})
    survey = Survey.objects.get()
    assert created["Location"] == f"/surveys/{survey.pk}/edit/" and survey.link_days == 14
    section = survey.sections.get()

    added = client.post(
        f"/surveys/{survey.pk}/sections/{section.pk}/questions/add/",
        {"kind": "likert", "text": "服务满意吗？"},
        **HTMX,
    ).content.decode()
    assert 'data-testid="structure"' in added and "服务满意吗？" in added and "<html" not in added
    client.post(f"/surveys/{survey.pk}/sections/add/", {}, **HTMX)
    later = survey.sections.get(key="s2")
    client.post(
        f"/surveys/{survey.pk}/sections/{later.pk}/questions/add/", {"kind": "text", "text": "建议"}, **HTMX
    )
    single = client.post(
        f"/surveys/{survey.pk}/sections/{section.pk}/questions/add/",
        {"kind": "single", "text": "常来吗？"},
        **HTMX,
    ).content.decode()
    assert 'data-testid="question-form"' in single  # a choice question opens for its options at once
    q1 = survey.questions.get(code="Q1")

    form = client.get(f"/surveys/{survey.pk}/questions/{q1.pk}/edit/", **HTMX).content.decode()
    assert 'name="rule-0-goto"' in form and 'value="s2"' in form
    saved = client.post(
        f"/surveys/{survey.pk}/questions/{q1.pk}/edit/",
        {
            "text": "服务满意吗？",
            "text_en": "Happy with the service?",
            "required": "on",
            "rule-0-op": "lte",
            "rule-0-value": "2",
            "rule-0-goto": "end",
        },
        **HTMX,
    ).content.decode()
    assert 'data-testid="rule-summary"' in saved
    q1.refresh_from_db()
    assert q1.text_en == "Happy with the service?" and q1.logic == [{"op": "lte", "value": 2, "goto": "end"}]

    q3 = survey.questions.get(code="Q3")
    client.post(
        f"/surveys/{survey.pk}/questions/{q3.pk}/edit/",
        {"text": "常来吗？", "required": "on", "options": "常来 | Often\n偶尔 | Sometimes"},
        **HTMX,
    )
    q3.refresh_from_db()
    assert [(o["label"], o["label_en"]) for o in q3.options] == [("常来", "Often"), ("偶尔", "Sometimes")]

    moved = client.post(f"/surveys/{survey.pk}/sections/{later.pk}/move/up/", **HTMX).content.decode()
    assert 'data-testid="builder-error"' not in moved  # no rule leads to s2 any more, so it may move
    moved_back = client.post(f"/surveys/{survey.pk}/sections/{later.pk}/move/down/", **HTMX)
    assert moved_back.status_code == 200

    bad = client.post(
        f"/surveys/{survey.pk}/questions/{q1.pk}/edit/",
        {
            "text": "服务满意吗？",
            "required": "on",
            "rule-0-op": "lte",
            "rule-0-value": "2",
            "rule-0-goto": "s1",
        },
        **HTMX,
    ).content.decode()
    assert 'data-testid="question-errors"' in bad
    assert Question.objects.get(pk=q1.pk).logic == [{"op": "lte", "value": 2, "goto": "end"}]

    client.post(f"/surveys/{survey.pk}/do/publish/")
    survey.refresh_from_db()
    assert survey.status == Survey.Status.PUBLISHED
    frozen = client.get(f"/surveys/{survey.pk}/edit/").content.decode()
    assert (
        'data-testid="frozen"' in frozen
        and "hx-post" not in frozen.split('data-testid="structure"')[1].split("Texts")[0]
    )
    refused = client.post(f"/surveys/{survey.pk}/questions/{q1.pk}/delete/", **HTMX).content.decode()
    assert 'data-testid="builder-error"' in refused and Question.objects.filter(pk=q1.pk).exists()
    texts = client.post(
        f"/surveys/{survey.pk}/edit/",
        {"title": "门店回访（新）", "link_days": "20", "version": survey.version, "anonymous_link": "on"},
    )
    assert texts.status_code == 302
    survey.refresh_from_db()
    assert survey.title == "门店回访（新）" and survey.link_days == 20


def test_distributing_links_to_customers(org, login, make_survey, make_customer):
    survey = make_survey()
    mine = make_customer(org.rep_a, name="宁波海天")
    second = make_customer(org.rep_a, name="温州瑞安", level="a")
    theirs = make_customer(org.rep_b, name="别组客户")
    client = login(org.rep_a)
    page = client.get(f"/surveys/{survey.pk}/distribute/").content.decode()
    assert 'data-testid="public-url"' in page and 'data-testid="invite-form"' in page

    made = client.post(
        f"/surveys/{survey.pk}/distribute/", {"customer_ids": f"{mine.pk}, {theirs.pk}", "channel": "sms"}
    ).content.decode()
    assert str(theirs.pk) in made and not Invitation.objects.exists()  # refused by id, nothing made
    made = client.post(
        f"/surveys/{survey.pk}/distribute/",
        {"customer_ids": str(mine.pk), "segment": "", "channel": "email", "source": "春季回访"},
    ).content.decode()
    assert 'data-testid="made-links"' in made and "/q/" in made
    client.post(f"/surveys/{survey.pk}/distribute/", {"segment": f"survey:{survey.pk}", "channel": "sms"})
    assert Invitation.objects.filter(customer=mine).count() == 1  # nobody answered yet: the segment is empty…
    answer(survey, second, Q1=5, Q4=9, Q5="好")
    client.post(f"/surveys/{survey.pk}/distribute/", {"segment": f"survey:{survey.pk}", "channel": "sms"})
    assert Invitation.objects.filter(customer=second).count() == 2  # … now it holds the one who answered
    assert Invitation.objects.get(customer=mine).source == {"text": "春季回访"}

    listed = client.get(f"/surveys/{survey.pk}/distribute/").content.decode()
    assert listed.count('data-testid="invitation-row"') == 3 and 'data-testid="count-answered">1<' in listed
    exported = b"".join(
        client.get(f"/surveys/{survey.pk}/distribute/?download=links&format=csv").streaming_content
    )
    assert "宁波海天".encode() in exported and b"/q/" in exported


def test_results_index_and_indicator_pages(org, login, make_survey, make_customer):
    survey = make_survey()
    customer = make_customer(org.rep_a, name="杭州湖畔", level="a")
    answer(survey, customer, Q1=5, Q2=4, Q3=["tmall"], Q4=10, Q5="非常好")
    answer(survey, None, Q1=2, Q5="太慢")
    client = login(org.rep_a)

    results = client.get(f"/surveys/{survey.pk}/results/").content.decode()
    assert 'data-testid="result-Q1"' in results and 'id="q-q1-option"' in results
    assert 'data-testid="nps-score">100.0<' in results and "非常好" in results and "太慢" in results
    crosstab = client.get(f"/surveys/{survey.pk}/results/?question=Q1&by=level").content.decode()
    assert crosstab.count('data-testid="crosstab-row"') == 2  # level A, and the anonymous answer
    chart = client.get(f"/surveys/{survey.pk}/results/?download=q-q1&format=csv")
    assert chart["Content-Type"].startswith("text/csv")
    bad_segment = client.get(f"/surveys/{survey.pk}/results/?segment=nonsense:1")
    assert bad_segment.status_code == 200  # flashed, the figures read without it

    empty_index = client.get(f"/surveys/{survey.pk}/index/").content.decode()
    assert 'data-testid="no-tree"' in empty_index
    tree = client.get(f"/surveys/{survey.pk}/indicators/").content.decode()
    assert 'data-testid="indicator-form"' in tree
    added = client.post(
        f"/surveys/{survey.pk}/indicators/",
        {"ind-0-name": "总体", "ind-0-weight": "1", "ind-0-parent": "", "add": "1"},
    ).content.decode()
    assert added.count('data-testid="indicator-row"') == 2
    refused = client.post(
        f"/surveys/{survey.pk}/indicators/",
        {"ind-0-name": "总体", "ind-0-weight": "0.5", "ind-0-questions": "Q1", "save": "1"},
    ).content.decode()
    assert 'data-testid="indicator-errors"' in refused
    saved = client.post(
        f"/surveys/{survey.pk}/indicators/",
        {
            "ind-0-name": "服务",
            "ind-0-weight": "1",
            "ind-1-name": "满意度",
            "ind-1-weight": "0.5",
            "ind-1-parent": "0",
            "ind-1-questions": "Q1",
            "ind-2-name": "商品",
            "ind-2-weight": "0.5",
            "ind-2-parent": "0",
            "ind-2-questions": "Q2",
            "save": "1",
        },
    )
    assert saved.status_code == 302
    index = client.get(f"/surveys/{survey.pk}/index/?period=quarter&by=level").content.decode()
    # Q1 (5 + 2) / 2 = 3.5, Q2 4 → 0.5·3.5 + 0.5·4 = 3.75 → 68.8
    assert 'data-testid="index-value">68.8<' in index and 'data-testid="chart-index-trend"' in index
    trend = client.get(f"/surveys/{survey.pk}/index/?download=index-trend&format=xlsx")
    assert trend["Content-Type"].startswith("application/vnd.openxmlformats")

    preview = client.get(f"/surveys/{survey.pk}/preview/").content.decode()
    assert 'data-testid="preview"' in preview and 'data-testid="submit-survey"' not in preview


def test_a_binned_survey_is_restored_from_the_recycle_bin(org, login, make_survey):
    survey = make_survey()
    client = login(org.rep_a)
    client.post(f"/surveys/{survey.pk}/do/delete/")
    assert "客户满意度调查" not in client.get("/surveys/").content.decode()
    assert client.get(f"/surveys/{survey.pk}/edit/").status_code == 404
    admin = login(org.admin)
    assert "客户满意度调查" in admin.get("/recycle-bin/").content.decode()
    admin.post(f"/surveys/{survey.pk}/restore/")
    assert "客户满意度调查" in login(org.rep_a).get("/surveys/").content.decode()


def test_the_demo_survey_has_months_of_answers(org, make_customer):
    for n in range(12):
        make_customer(org.rep_a, name=f"演示客户{n}")
    survey = demo.surveys_seed_demo(actor=org.admin, responses=60)
    assert survey.status == Survey.Status.PUBLISHED
    assert Response.objects.filter(survey=survey).count() == 60
    months = {r.submitted_at.strftime("%Y-%m") for r in Response.objects.filter(survey=survey)}
    assert len(months) >= 5
    assert demo.surveys_seed_demo(actor=org.admin) == survey  # once
    from kehu.surveys import selectors

    report = selectors.index_report(actor=org.admin, survey=survey, filters=selectors.Filters())
    assert 40 < report.overall.score.index < 95 and len(report.trend) >= 5
    assert services.indicators_data(survey)[0]["name"] == "网站与App"


def test_the_customer_page_shows_their_answers_to_surveys_the_reader_sees(
    org, login, make_survey, make_customer
):
    customer = make_customer(org.rep_a, name="苏州园林文旅")
    answer(make_survey(), customer, Q1=5, Q2=4, Q4=9, Q5="好")
    answer(make_survey(org.admin, title="总部的调查"), customer, Q1=3, Q4=2, Q5="一般")
    page = login(org.rep_a).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="customer-survey-responses"' in page and "NPS 9" in page
    assert "总部的调查" not in page and "NPS 2" not in page  # the company's survey is not the rep's to read
    assert "总部的调查" in login(org.admin).get(f"/customers/{customer.pk}/").content.decode()
