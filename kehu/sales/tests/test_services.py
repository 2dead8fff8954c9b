"""Opportunities through the services: stage rules, probability, closing, history, scope, handover, merge,
currency conversion and the follow-up discipline check."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.activities.models import Notification, TimelineEntry
from kehu.activities.services import timeline_entry_create
from kehu.core.exceptions import PermissionDenied, StaleEdit, ValidationFailed
from kehu.customers.services import contact_create, customer_merge
from kehu.sales.models import ExchangeRate, Opportunity, Pipeline, StageChange
from kehu.sales.money import Rates
from kehu.sales.selectors import opportunities as selectors
from kehu.sales.services import opportunities as services
from kehu.users.services import user_deactivate

pytestmark = pytest.mark.django_db

CLOSE = datetime.date(2026, 12, 31)


@pytest.fixture
def deal(org, pipeline, make_customer):
    customer = make_customer(org.rep_a, name="上海星河科技有限公司")
    return services.opportunity_create(
        actor=org.rep_a, data={"name": "星河年度采购", "customer": customer}, pipeline=pipeline
    )


def test_a_new_opportunity_starts_at_the_first_stage_with_its_probability_and_is_on_the_timeline(
    org, deal, pipeline
):
    """Given a rep's customer, when an opportunity is created without a stage, then it sits at the first open
    stage with that stage's probability, owned by the rep in the rep's unit, with its first stage change and a
    timeline event on the customer."""
    assert (deal.stage, deal.probability, deal.status) == (pipeline.qualify, 10, "open")
    assert (deal.owner, deal.org_unit) == (org.rep_a, org.team_a)
    assert list(StageChange.objects.filter(opportunity=deal).values_list("from_stage", "to_stage")) == [
        (None, pipeline.qualify.pk)
    ]
    event = TimelineEntry.objects.get(customer=deal.customer, event="opportunity_created")
    assert event.event_data["opportunity"] == "星河年度采购"


def test_entering_a_stage_needs_its_required_fields(org, deal, pipeline):
    """Given the proposal stage requires amount and close date, when moving without them, then the move is
    refused naming both fields; with them it succeeds and takes the stage's probability."""
    with pytest.raises(ValidationFailed) as refused:
        services.opportunity_move(actor=org.rep_a, opportunity=deal, stage=pipeline.proposal)
    assert set(refused.value.fields) == {"amount", "expected_close_on"}
    assert refused.value.extra["required"] == ["amount", "expected_close_on"]
    deal.refresh_from_db()
    assert deal.stage == pipeline.qualify

    moved = services.opportunity_move(
        actor=org.rep_a,
        opportunity=deal,
        stage=pipeline.proposal,
        data={"amount": Decimal("120000.00"), "expected_close_on": CLOSE},
    )
    assert (moved.stage, moved.probability, moved.amount) == (pipeline.proposal, 50, Decimal("120000.00"))


def test_a_required_field_cannot_be_emptied_while_in_the_stage(org, deal, pipeline):
    """Given an opportunity in the proposal stage, when its amount is cleared to 0, then the edit is refused."""
    services.opportunity_move(
        actor=org.rep_a,
        opportunity=deal,
        stage=pipeline.proposal,
        data={"amount": Decimal("5000"), "expected_close_on": CLOSE},
    )
    with pytest.raises(ValidationFailed) as refused:
        services.opportunity_update(
            actor=org.rep_a, opportunity=deal, data={"amount": Decimal(0)}, version=None
        )
    assert "amount" in refused.value.fields


def test_losing_needs_a_reason_and_closes_winning_closes_at_100(org, deal, pipeline):
    """Given an open opportunity, when moved to lost without a reason, then it is refused; with a reason it is
    closed at 0%; reopened and won, it is closed at 100% and the lost reason is cleared."""
    with pytest.raises(ValidationFailed) as refused:
        services.opportunity_move(actor=org.rep_a, opportunity=deal, stage=pipeline.lost)
    assert "lost_reason" in refused.value.fields

    lost = services.opportunity_move(
        actor=org.rep_a, opportunity=deal, stage=pipeline.lost, data={"lost_reason": "价格高于竞品"}
    )
    assert (lost.status, lost.probability, lost.lost_reason) == ("lost", 0, "价格高于竞品")
    assert lost.closed_at is not None

    reopened = services.opportunity_move(actor=org.rep_a, opportunity=lost, stage=pipeline.qualify)
    assert (reopened.status, reopened.closed_at, reopened.lost_reason) == ("open", None, "")
    won = services.opportunity_move(actor=org.rep_a, opportunity=reopened, stage=pipeline.won)
    assert (won.status, won.probability) == ("won", 100)
    assert TimelineEntry.objects.filter(customer=deal.customer, event="opportunity_won").count() == 1
    assert TimelineEntry.objects.filter(customer=deal.customer, event="opportunity_lost").count() == 1


def test_stage_history_records_who_when_and_the_time_spent(org, deal, pipeline):
    """Given an opportunity that entered the first stage 3 days ago, when it moves on, then the change keeps
    who moved it and the 3 days spent in the first stage; time in stages adds up per stage."""
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    Opportunity.objects.filter(pk=deal.pk).update(stage_entered_at=three_days_ago)
    deal.refresh_from_db()
    services.opportunity_move(
        actor=org.rep_a,
        opportunity=deal,
        stage=pipeline.proposal,
        data={"amount": Decimal(1), "expected_close_on": CLOSE},
    )
    last = selectors.stage_history(opportunity=deal)[-1]
    assert (last.from_stage, last.to_stage, last.changed_by) == (
        pipeline.qualify,
        pipeline.proposal,
        org.rep_a,
    )
    assert abs(last.seconds_in_from - 3 * 86400) < 60
    deal.refresh_from_db()
    spent = dict(selectors.time_in_stages(opportunity=deal))
    assert abs(spent[pipeline.qualify] - 3 * 86400) < 60
    assert spent[pipeline.proposal] < 60


def test_a_stale_version_is_refused_with_what_changed(org, deal):
    """Given two people editing the same version, when the second saves, then StaleEdit names the field."""
    services.opportunity_update(actor=org.rep_a, opportunity=deal, data={"next_step": "发报价"}, version=1)
    with pytest.raises(StaleEdit) as stale:
        services.opportunity_update(actor=org.rep_a, opportunity=deal, data={"next_step": "约见"}, version=1)
    assert "next_step" in stale.value.changes


def test_contacts_must_belong_to_the_customer(org, deal, make_customer):
    """Given a contact of another customer, when attached to the opportunity, then it is refused; the
    customer's own contact is kept with its role."""
    own = contact_create(actor=org.rep_a, customer=deal.customer, data={"name": "王总"})
    stranger = contact_create(actor=org.rep_a, customer=make_customer(org.rep_a), data={"name": "外人"})
    with pytest.raises(ValidationFailed):
        services.opportunity_update(
            actor=org.rep_a, opportunity=deal, data={}, version=None, contacts=[(stranger, "user")]
        )
    services.opportunity_update(
        actor=org.rep_a, opportunity=deal, data={}, version=None, contacts=[(own, "decision_maker")]
    )
    assert [(r.contact, r.role) for r in selectors.contact_roles(opportunity=deal)] == [
        (own, "decision_maker")
    ]


def test_scope_a_rep_sees_own_deals_a_manager_sees_the_region_another_rep_nothing(org, deal):
    """Given rep_a's opportunity, then rep_a and the East manager see it; rep_a2 (same team), rep_c (North)
    and nobody else may edit it; the analyst sees but may not edit."""

    def sees(user):
        return selectors.opportunity_scope(user).filter(pk=deal.pk).exists()

    assert sees(org.rep_a) and sees(org.east_manager) and sees(org.analyst) and sees(org.admin)
    assert not sees(org.rep_a2) and not sees(org.rep_c)
    with pytest.raises(PermissionDenied):
        services.opportunity_update(
            actor=org.analyst, opportunity=deal, data={"next_step": "x"}, version=None
        )


def test_a_rep_cannot_open_an_opportunity_on_a_customer_they_do_not_work_on(org, pipeline, make_customer):
    """Given rep_c's customer, when rep_a opens an opportunity on it, then the customer field is refused."""
    theirs = make_customer(org.rep_c)
    with pytest.raises(ValidationFailed) as refused:
        services.opportunity_create(
            actor=org.rep_a, data={"name": "x", "customer": theirs}, pipeline=pipeline
        )
    assert "customer" in refused.value.fields


def test_a_pipeline_limited_to_another_unit_is_refused(org, make_customer):
    """Given a pipeline limited to the North region, when a rep of the East opens an opportunity on it, then
    it is refused, and the pipeline is not offered to them."""
    north_only = Pipeline.objects.create(name="华北批发", name_en="North wholesale")
    north_only.units.set([org.north])
    north_only.stages.create(name="接洽", position=0, probability=10)
    with pytest.raises(ValidationFailed) as refused:
        services.opportunity_create(
            actor=org.rep_a, data={"name": "x", "customer": make_customer(org.rep_a)}, pipeline=north_only
        )
    assert "pipeline" in refused.value.fields
    assert north_only not in selectors.pipelines_for(actor=org.rep_a)
    assert north_only in selectors.pipelines_for(actor=org.rep_c)


def test_assigning_moves_the_deal_to_the_new_owner_and_notifies_them(org, deal):
    """Given the East manager, when they give rep_a's deal to rep_b, then rep_b owns it in team B and is
    notified; rep_a may not assign."""
    with pytest.raises(PermissionDenied):
        services.opportunity_assign(actor=org.rep_a, opportunity=deal, owner=org.rep_a2)
    services.opportunity_assign(actor=org.east_manager, opportunity=deal, owner=org.rep_b)
    deal.refresh_from_db()
    assert (deal.owner, deal.org_unit) == (org.rep_b, org.team_b)
    assert Notification.objects.filter(recipient=org.rep_b, kind="opportunity_assigned").exists()


def test_handover_and_merge_move_opportunities(org, deal, make_customer):
    """Given rep_a leaves with rep_a2 as successor, then the deal belongs to rep_a2; given its customer is
    merged into another, then the deal follows the survivor."""
    user_deactivate(actor=org.admin, user=org.rep_a, successor=org.rep_a2)
    deal.refresh_from_db()
    assert deal.owner == org.rep_a2
    survivor = make_customer(org.rep_a2, name="星河科技（新）")
    customer_merge(actor=org.admin, survivor=survivor, merged=deal.customer)
    deal.refresh_from_db()
    assert deal.customer == survivor


def test_deleted_opportunities_go_to_the_recycle_bin_and_come_back(org, deal):
    services.opportunity_delete(actor=org.rep_a, opportunity=deal)
    assert not selectors.opportunity_scope(org.rep_a).filter(pk=deal.pk).exists()
    assert Opportunity.all_objects.filter(pk=deal.pk, deleted_by=org.rep_a).exists()
    services.opportunity_restore(actor=org.admin, opportunity=deal)
    assert selectors.opportunity_scope(org.rep_a).filter(pk=deal.pk).exists()


def test_rates_convert_with_the_rate_valid_on_the_date_and_report_missing_ones(db):
    """Given USD at 7.10 from January and 7.20 from July, then June amounts use 7.10 and July ones 7.20;
    a currency without a rate counts 0 and is reported."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=Decimal("7.10"))
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2026, 7, 1), rate=Decimal("7.20"))
    rates = Rates.load()
    assert rates.convert(Decimal("100.00"), "USD", datetime.date(2026, 6, 30)) == Decimal("710.00")
    assert rates.convert(Decimal("100.00"), "USD", datetime.date(2026, 7, 1)) == Decimal("720.00")
    assert rates.convert(Decimal("0.333"), "CNY") == Decimal("0.33")
    assert rates.convert(Decimal("100"), "EUR", datetime.date(2026, 7, 1)) == Decimal(0)
    assert rates.convert(Decimal("100"), "USD", datetime.date(2025, 12, 31)) == Decimal(0)
    assert rates.missing == {"EUR", "USD"}


def test_the_board_totals_each_stage_in_the_company_currency(org, pipeline, make_customer):
    """Given 3 deals (¥100,000 and $10,000 at 10%; ¥50,000 at 50%), when the board is built, then the first
    column counts 2 with ¥171,000 (USD at 7.10) and weighted ¥17,100, the proposal column ¥50,000 and
    weighted ¥25,000, and a rep of another team sees empty columns."""
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2020, 1, 1), rate=Decimal("7.10"))
    customer = make_customer(org.rep_a)

    def open_deal(amount, currency="CNY", stage=None):
        return services.opportunity_create(
            actor=org.rep_a,
            data={
                "name": f"deal {amount}",
                "customer": customer,
                "amount": Decimal(amount),
                "currency": currency,
                "expected_close_on": CLOSE,
            },
            pipeline=pipeline,
            stage=stage,
        )

    open_deal("100000")
    open_deal("10000", "USD")
    open_deal("50000", stage=pipeline.proposal)
    board = selectors.board(actor=org.rep_a, pipeline=pipeline, filters=selectors.OpportunityFilters())
    first, proposal, won, _lost = board.columns
    assert (first.count, first.amount, first.weighted) == (2, Decimal("171000.00"), Decimal("17100.00"))
    assert (proposal.count, proposal.amount, proposal.weighted) == (
        1,
        Decimal("50000.00"),
        Decimal("25000.00"),
    )
    assert won.count == 0 and len(first.cards) == 2
    assert board.missing_rates == set()
    assert board.weighted == Decimal("42100.00")

    other = selectors.board(actor=org.rep_c, pipeline=pipeline, filters=selectors.OpportunityFilters())
    assert [c.count for c in other.columns] == [0, 0, 0, 0]


def test_a_quiet_opportunity_is_flagged_once_to_its_owner_and_the_nearest_manager(org, deal):
    """Given an open deal whose customer has had no follow-up for 31 days (pipeline: 30), when the check runs
    twice, then rep_a and the East manager are notified once; after a new follow-up and another quiet spell
    they are notified again."""
    long_ago = timezone.now() - datetime.timedelta(days=31)
    Opportunity.objects.filter(pk=deal.pk).update(created_at=long_ago, stage_entered_at=long_ago)
    assert services.opportunities_flag_stale() == 1
    assert services.opportunities_flag_stale() == 0
    stale = Notification.objects.filter(kind="opportunity_stale")
    assert sorted(n.recipient.username for n in stale) == ["east_manager", "rep_a"]

    timeline_entry_create(actor=org.rep_a, customer=deal.customer, data={"kind": "call", "content": "回访"})
    assert services.opportunities_flag_stale(now=timezone.now() + datetime.timedelta(days=29)) == 0
    assert services.opportunities_flag_stale(now=timezone.now() + datetime.timedelta(days=31)) == 1
    assert Notification.objects.filter(kind="opportunity_stale").count() == 4


def test_the_recycle_bin_purge_takes_opportunities_with_their_customer_and_when_they_expire(
    org, pipeline, make_customer, settings
):
    """Given a binned customer with an opportunity and a binned opportunity of another customer, both binned
    longer ago than the retention period, when the purge job runs, then the customer and both opportunities
    are gone for good (with their stage history) and a recent opportunity stays."""
    from kehu.core.services import recycle_bin_purge
    from kehu.customers.models import Customer
    from kehu.customers.services import customer_delete

    binned_customer = make_customer(org.rep_a)
    on_binned = services.opportunity_create(
        actor=org.rep_a, data={"name": "随客户删除", "customer": binned_customer}, pipeline=pipeline
    )
    kept_customer = make_customer(org.rep_a)
    binned = services.opportunity_create(
        actor=org.rep_a, data={"name": "已删除商机", "customer": kept_customer}, pipeline=pipeline
    )
    recent = services.opportunity_create(
        actor=org.rep_a, data={"name": "保留", "customer": kept_customer}, pipeline=pipeline
    )
    customer_delete(actor=org.rep_a, customer=binned_customer)
    services.opportunity_delete(actor=org.rep_a, opportunity=binned)
    long_ago = timezone.now() - datetime.timedelta(days=settings.KEHU["RECYCLE_BIN_DAYS"] + 1)
    Customer.all_objects.filter(pk=binned_customer.pk).update(deleted_at=long_ago)
    Opportunity.all_objects.filter(pk=binned.pk).update(deleted_at=long_ago)

    recycle_bin_purge()

    assert not Customer.all_objects.filter(pk=binned_customer.pk).exists()
    assert list(Opportunity.all_objects.values_list("pk", flat=True)) == [recent.pk]
    assert not StageChange.objects.filter(opportunity_id__in=[on_binned.pk, binned.pk]).exists()


def test_a_pool_rule_for_customers_without_a_deal_spares_those_with_an_open_opportunity(org, deal, pipeline):
    """Given a 30-day recycle rule that spares customers with a deal, two stale customers of rep_a, one with an
    open opportunity and one whose only opportunity is lost, when the recycle job runs, then only the customer
    without a deal in progress goes back to the pool."""
    from kehu.customers.models import Customer, PoolRule
    from kehu.customers.services import customer_create, pool_recycle_due

    PoolRule.objects.create(unit=org.east, recycle_after_days=30, recycle_only_without_deal=True)
    lost_customer = customer_create(actor=org.rep_a, data={"name": "北辰贸易"})
    lost = services.opportunity_create(
        actor=org.rep_a, data={"name": "北辰试单", "customer": lost_customer}, pipeline=pipeline
    )
    services.opportunity_move(
        actor=org.rep_a, opportunity=lost, stage=pipeline.lost, data={"lost_reason": "价格"}
    )
    long_ago = timezone.now() - datetime.timedelta(days=45)
    Customer.objects.filter(pk__in=[deal.customer_id, lost_customer.pk]).update(last_followup_at=long_ago)

    assert pool_recycle_due() == 1

    assert Customer.objects.get(pk=deal.customer_id).owner == org.rep_a
    assert Customer.objects.get(pk=lost_customer.pk).owner is None


def test_an_emptied_probability_is_the_stages_again(org, deal, pipeline):
    deal = services.opportunity_update(
        actor=org.rep_a, opportunity=deal, data={"probability": 35}, version=None
    )
    assert deal.probability == 35
    deal = services.opportunity_update(
        actor=org.rep_a, opportunity=deal, data={"probability": None}, version=None
    )
    assert deal.probability == pipeline.qualify.probability == 10
