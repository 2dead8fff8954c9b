"""The weekly review (figures of a hand-made week, drill-down, a rep's restricted view, a flat query count) and
the stage funnel (figures of a hand-made history, filters, scope), through the selectors, the pages and the API."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.activities.models import Task
from kehu.activities.services import task_create, timeline_entry_create
from kehu.core.exceptions import NotFound, ValidationFailed
from kehu.sales.models import Lead, Opportunity, StageChange
from kehu.sales.selectors import review as selectors
from kehu.sales.services.leads import lead_create
from kehu.sales.services.opportunities import opportunity_create, opportunity_move
from kehu.users.models import Role
from kehu.users.services import membership_set, user_create
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = selectors.Week(datetime.date(2026, 3, 2))  # 2026-W10, Monday 2 to Sunday 8 March
WEDNESDAY = datetime.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)
SUNDAY_NIGHT = datetime.datetime(2026, 3, 8, 23, 30, tzinfo=SHANGHAI)  # still this week in Shanghai
NEXT_MONDAY = datetime.datetime(2026, 3, 9, 0, 10, tzinfo=SHANGHAI)  # the week after (Sunday 16:10 UTC)
LAST_SUNDAY = datetime.datetime(2026, 3, 1, 23, 50, tzinfo=SHANGHAI)  # the week before


def lead(owner, name, at):
    created = lead_create(actor=owner, data={"company": name})
    Lead.objects.filter(pk=created.pk).update(created_at=at)
    return created


def followup(actor, customer, kind, at):
    return timeline_entry_create(
        actor=actor, customer=customer, data={"kind": kind, "content": "跟进", "occurred_at": at}
    )


def deal(actor, customer, pipeline, name):
    return opportunity_create(actor=actor, data={"name": name, "customer": customer}, pipeline=pipeline)


def move(actor, opportunity, stage, at, **data):
    opportunity_move(actor=actor, opportunity=opportunity, stage=stage, data=data or None)
    StageChange.objects.filter(opportunity=opportunity, to_stage=stage).update(changed_at=at)
    fields = {"stage_entered_at": at}
    if stage.is_closed:
        fields["closed_at"] = at
    Opportunity.objects.filter(pk=opportunity.pk).update(**fields)


@pytest.fixture
def week_of_rep_a(org, pipeline, make_customer):
    """rep_a's week: a lead (and one from the week before), a call and a note (and a visit the Monday after),
    a deal moved to proposal, one won, one lost, one won the week before, a fresh deal, an overdue task.
    rep_b: a lead and a call. rep_c (North): a lead."""
    lead(org.rep_a, "本周线索", WEDNESDAY)
    lead(org.rep_a, "上周线索", LAST_SUNDAY)
    customer = make_customer(org.rep_a, name="上海星河科技")
    followup(org.rep_a, customer, "call", WEDNESDAY)
    followup(org.rep_a, customer, "note", SUNDAY_NIGHT)
    followup(org.rep_a, customer, "visit", NEXT_MONDAY)
    moved = deal(org.rep_a, customer, pipeline, "星河二期")
    move(org.rep_a, moved, pipeline.proposal, WEDNESDAY, amount=Decimal(1000), expected_close_on=WEEK.sunday)
    won = deal(org.rep_a, customer, pipeline, "星河耗材")
    move(org.rep_a, won, pipeline.won, WEDNESDAY)
    lost = deal(org.rep_a, customer, pipeline, "星河软件")
    move(org.rep_a, lost, pipeline.lost, SUNDAY_NIGHT, lost_reason="价格")
    earlier = deal(org.rep_a, customer, pipeline, "星河旧单")
    move(org.rep_a, earlier, pipeline.won, LAST_SUNDAY)
    fresh = deal(org.rep_a, make_customer(org.rep_a, name="新客户"), pipeline, "新客户首单")
    task_create(actor=org.rep_a, data={"title": "回访", "customer": customer, "due_at": WEDNESDAY})
    done = task_create(actor=org.rep_a, data={"title": "已办", "customer": customer, "due_at": WEDNESDAY})
    Task.objects.filter(pk=done.pk).update(status=Task.Status.DONE)
    task_create(
        actor=org.rep_a,
        data={
            "title": "将来",
            "customer": customer,
            "due_at": datetime.datetime(2099, 1, 1, tzinfo=SHANGHAI),
        },
    )

    lead(org.rep_b, "杭州线索", WEDNESDAY)
    followup(org.rep_b, make_customer(org.rep_b, name="杭州客户"), "call", WEDNESDAY)
    lead(org.rep_c, "北京线索", WEDNESDAY)
    return {"moved": moved, "won": won, "lost": lost, "earlier": earlier, "fresh": fresh}


REP_A_WEEK = {
    "new_leads": 1,
    "followups": 2,
    "calls": 1,
    "visits": 0,
    "stage_moves": 3,  # to proposal, to won, to lost
    "won": 1,
    "lost": 1,
    "overdue_followups": 1,  # the proposal deal: its customer's last follow-up is months old
    "overdue_tasks": 1,
}


def rows(report) -> dict:
    return {(("unit", r.unit.pk) if r.unit else ("rep", r.user.pk)): r.figures.as_dict() for r in report.rows}


# --- weeks --------------------------------------------------------------------------------------------------------


def test_weeks_run_monday_to_sunday_in_shanghai():
    week = selectors.parse_week("2026-W10")
    assert (week.monday, week.sunday, week.code) == (
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 8),
        "2026-W10",
    )
    assert week.start == datetime.datetime(2026, 3, 1, 16, 0, tzinfo=datetime.UTC)
    assert (week.previous.code, week.next.code) == ("2026-W09", "2026-W11")
    assert selectors.parse_week("2020-W53").monday == datetime.date(2020, 12, 28)
    for bad in ("2026-10", "W10", "2026-W60"):
        with pytest.raises(ValidationFailed) as refused:
            selectors.parse_week(bad)
        assert "week" in refused.value.fields


# --- the review ---------------------------------------------------------------------------------------------------


def test_the_managers_review_of_a_hand_made_week(org, week_of_rep_a):
    """Given rep_a's and rep_b's week, when the East manager reads it, then team A and team B each have a row
    aggregating their reps and the manager has a row of their own; only what happened Monday to Sunday
    (Shanghai time) counts; North's lead does not show."""
    report = selectors.review(actor=org.east_manager, week=WEEK)
    assert report.unit == org.east
    assert rows(report) == {
        ("unit", org.team_a.pk): REP_A_WEEK,
        ("unit", org.team_b.pk): {**selectors.Figures(new_leads=1, followups=1, calls=1).as_dict()},
        ("rep", org.east_manager.pk): selectors.Figures().as_dict(),
    }
    assert report.total.new_leads == 2 and report.total.calls == 2


def test_the_admin_starts_at_the_company_and_drills_down(org, week_of_rep_a):
    report = selectors.review(actor=org.admin, week=WEEK)
    assert report.unit == org.company
    figures = rows(report)
    assert figures[("unit", org.east.pk)]["new_leads"] == 2
    assert figures[("unit", org.north.pk)]["new_leads"] == 1

    team = selectors.review(actor=org.admin, week=WEEK, unit_id=org.team_a.pk)
    assert [u.pk for u in team.trail] == [org.company.pk, org.east.pk, org.team_a.pk]
    assert rows(team) == {
        ("rep", org.rep_a.pk): REP_A_WEEK,
        ("rep", org.rep_a2.pk): selectors.Figures().as_dict(),
    }


def test_drilling_into_a_rep_shows_what_happened_to_each_deal(org, week_of_rep_a):
    report = selectors.review(actor=org.east_manager, week=WEEK, rep_id=org.rep_a.pk)
    assert report.rep == org.rep_a and report.unit == org.team_a
    assert report.rows[0].figures.as_dict() == REP_A_WEEK
    deals = {d.opportunity.name: d for d in report.deals}
    assert set(deals) == {"星河二期", "星河耗材", "星河软件", "新客户首单"}  # not the one won the week before
    moved = deals["星河二期"]
    assert [(m.from_stage.name_en, m.to_stage.name_en) for m in moved.moves] == [("Qualify", "Proposal")]
    assert [e.kind for e in moved.followups] == ["call", "note"]
    assert deals["星河耗材"].won and not deals["星河耗材"].lost
    assert deals["星河软件"].lost
    assert not deals["新客户首单"].active
    assert report.deals[-1].opportunity.name == "新客户首单"  # quiet deals come last


def test_units_and_reps_outside_the_managers_subtree_are_not_found(org, week_of_rep_a):
    with pytest.raises(NotFound):
        selectors.review(actor=org.east_manager, week=WEEK, unit_id=org.team_c.pk)
    with pytest.raises(NotFound):
        selectors.review(actor=org.east_manager, week=WEEK, rep_id=org.rep_c.pk)


def test_a_rep_sees_only_their_own_row_and_deals(org, week_of_rep_a):
    report = selectors.review(actor=org.rep_b, week=WEEK, unit_id=org.east.pk)
    assert rows(report) == {
        ("rep", org.rep_b.pk): selectors.Figures(new_leads=1, followups=1, calls=1).as_dict()
    }
    assert report.deals == []
    with pytest.raises(NotFound):
        selectors.review(actor=org.rep_b, week=WEEK, rep_id=org.rep_a.pk)
    own = selectors.review(actor=org.rep_a, week=WEEK, rep_id=org.rep_a.pk)
    assert own.rows[0].figures.as_dict() == REP_A_WEEK and len(own.deals) == 4


def test_the_review_page_with_drill_down_links_and_week_navigation(org, week_of_rep_a, login):
    client = login(org.east_manager)
    page = client.get("/review/?week=2026-W10").content.decode()
    assert f'href="?week=2026-W10&unit={org.team_a.pk}"' in page
    assert "?week=2026-W09" in page and "?week=2026-W11" in page
    assert 'data-testid="review-definitions"' in page
    team = client.get(f"/review/?week=2026-W10&unit={org.team_a.pk}").content.decode()
    assert f"?week=2026-W10&rep={org.rep_a.pk}" in team
    rep = client.get(f"/review/?week=2026-W10&rep={org.rep_a.pk}").content.decode()
    assert "星河二期" in rep and "星河旧单" not in rep
    assert client.get(f"/review/?week=2026-W10&unit={org.team_c.pk}").status_code == 404

    rep_b = login(org.rep_b)
    own = rep_b.get("/review/?week=2026-W10").content.decode()
    assert own.count('data-testid="review-row"') == 1 and "李销售" not in own
    assert rep_b.get(f"/review/?week=2026-W10&rep={org.rep_a.pk}").status_code == 404


def test_the_review_costs_the_same_queries_for_2_and_6_reps(org, pipeline, make_customer, login):
    """Each figure is one grouped query: a team of 6 busy reps costs what a team of 2 costs."""
    client = login(org.east_manager)
    url = f"/review/?week=2026-W10&unit={org.team_a.pk}"

    def busy(rep):
        lead(rep, f"{rep.username}线索", WEDNESDAY)
        customer = make_customer(rep, name=f"{rep.username}客户")
        followup(rep, customer, "visit", WEDNESDAY)
        opportunity = deal(rep, customer, pipeline, f"{rep.username}单")
        move(rep, opportunity, pipeline.won, WEDNESDAY)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    busy(org.rep_a)
    busy(org.rep_a2)
    two = queries()
    for n in range(4):
        rep = user_create(username=f"extra{n}", password="x" * 12, display_name=f"新人{n}")
        membership_set(actor=None, user=rep, unit=org.team_a, role=Role.SALES_REP)
        busy(rep)
    assert queries() == two
    page = client.get(url).content.decode()
    assert page.count('data-testid="review-row"') == 6


def test_the_review_api(org, week_of_rep_a):
    body = ApiClient(org.east_manager).get("/review", {"week": "2026-W10", "unit": org.team_a.pk}).json()
    assert (body["week"], body["starts_on"], body["ends_on"]) == ("2026-W10", "2026-03-02", "2026-03-08")
    rep_a = next(r for r in body["rows"] if r["kind"] == "rep" and r["id"] == org.rep_a.pk)
    assert rep_a["figures"] == REP_A_WEEK
    drilled = ApiClient(org.east_manager).get("/review", {"week": "2026-W10", "rep": org.rep_a.pk}).json()
    assert {d["name"] for d in drilled["deals"]} >= {"星河二期", "星河耗材"}
    rep_b = ApiClient(org.rep_b)
    assert rep_b.get("/review", {"week": "2026-W10", "rep": org.rep_a.pk}).status_code == 404
    assert rep_b.get("/review", {"week": "26W10"}).status_code == 422


# --- the funnel ---------------------------------------------------------------------------------------------------


@pytest.fixture
def history(org, pipeline, make_customer):
    """rep_a created 10 deals: 6 reached proposal (3 of them won, 2 lost, 1 still there), 1 lost at qualify, 3
    still at qualify. Everyone spent 2 days in qualify and 4 in proposal. One deal created long ago does not
    count; rep_b has one deal of their own."""
    customer = make_customer(org.rep_a, name="漏斗客户")
    deals = [deal(org.rep_a, customer, pipeline, f"漏斗{n}") for n in range(10)]
    for opportunity in deals[:6]:
        opportunity_move(
            actor=org.rep_a,
            opportunity=opportunity,
            stage=pipeline.proposal,
            data={"amount": Decimal(100), "expected_close_on": datetime.date(2026, 12, 31)},
        )
    for opportunity in deals[:3]:
        opportunity_move(actor=org.rep_a, opportunity=opportunity, stage=pipeline.won)
    for opportunity in deals[3:5]:
        opportunity_move(
            actor=org.rep_a, opportunity=opportunity, stage=pipeline.lost, data={"lost_reason": "预算"}
        )
    opportunity_move(
        actor=org.rep_a, opportunity=deals[6], stage=pipeline.lost, data={"lost_reason": "无需求"}
    )
    StageChange.objects.filter(from_stage=pipeline.qualify).update(seconds_in_from=2 * 86400)
    StageChange.objects.filter(from_stage=pipeline.proposal).update(seconds_in_from=4 * 86400)
    old = deal(org.rep_a, customer, pipeline, "很久以前")
    Opportunity.objects.filter(pk=old.pk).update(created_at=old.created_at - datetime.timedelta(days=200))
    deal(org.rep_b, make_customer(org.rep_b, name="杭州漏斗"), pipeline, "杭州单")
    return deals


def steps(report) -> list[tuple]:
    return [(s.stage.name_en, s.reached, s.to_next, s.from_first, s.avg_days) for s in report.steps]


def test_funnel_figures_of_a_hand_made_history(org, pipeline, history):
    report = selectors.funnel(actor=org.rep_a, pipeline=pipeline)
    assert (report.total, report.won, report.lost, report.won_rate) == (10, 3, 3, Decimal("30.0"))
    assert steps(report) == [
        ("Qualify", 10, Decimal("60.0"), Decimal("100.0"), Decimal("2.0")),
        ("Proposal", 6, Decimal("50.0"), Decimal("60.0"), Decimal("4.0")),
        ("Won", 3, None, Decimal("30.0"), None),
    ]
    assert [s.width for s in report.steps] == [Decimal("100.0"), Decimal("60.0"), Decimal("30.0")]


def test_funnel_filters_and_scope(org, pipeline, history):
    """rep_b's report holds only rep_b's deal; the manager sees both teams and narrows by unit or rep."""
    assert selectors.funnel(actor=org.rep_b, pipeline=pipeline).total == 1
    assert selectors.funnel(actor=org.east_manager, pipeline=pipeline).total == 11
    assert selectors.funnel(actor=org.east_manager, pipeline=pipeline, unit_id=org.team_b.pk).total == 1
    assert selectors.funnel(actor=org.east_manager, pipeline=pipeline, owner_id=org.rep_a.pk).total == 10
    assert selectors.funnel(actor=org.rep_c, pipeline=pipeline).total == 0
    long_ago = selectors.funnel(
        actor=org.rep_a,
        pipeline=pipeline,
        since=datetime.date(2000, 1, 1),
        until=datetime.date(2000, 12, 31),
    )
    assert long_ago.total == 0 and long_ago.won_rate is None and long_ago.steps[0].from_first is None


def test_the_funnel_page_and_api(org, pipeline, history, login):
    page = login(org.rep_a).get(f"/reports/funnel/?pipeline={pipeline.pk}").content.decode()
    assert page.count('data-testid="funnel-step"') == 3
    assert "60.0%" in page and "50.0%" in page and 'style="width: 60.0%"' in page
    other = login(org.rep_b).get(f"/reports/funnel/?pipeline={pipeline.pk}").content.decode()
    assert "60.0%" not in other and 'data-metric="reached">1<' in other

    body = ApiClient(org.rep_a).get("/reports/funnel", {"pipeline": pipeline.pk}).json()
    assert (body["total"], body["won_rate"]) == (10, "30.0")
    assert [(s["reached"], s["to_next"]) for s in body["steps"]] == [(10, "60.0"), (6, "50.0"), (3, None)]
    assert ApiClient(org.rep_b).get("/reports/funnel", {"pipeline": pipeline.pk}).json()["total"] == 1
    bad = ApiClient(org.rep_a).get("/reports/funnel", {"pipeline": pipeline.pk, "from": "2026-13-01"})
    assert bad.status_code == 422
    assert ApiClient(org.rep_a).get("/reports/funnel", {"pipeline": 999999}).status_code == 404
