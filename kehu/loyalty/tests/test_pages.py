"""The loyalty pages render for the people who use them, their forms do what they say, and a rep never sees
another team's member on any of them. Pages render in zh-hans; the tests look for data, not wording."""

import pytest

from kehu.loyalty import services
from kehu.loyalty.models import Coupon, CouponDefinition, Member, PointsEntry, Referral


@pytest.fixture
def member(org, buyer, place):
    place(buyer, "2300")
    services.points_accrue()
    services.tiers_evaluate()
    return buyer


def test_the_members_list_filters_by_tier_and_searches(org, login, member, make_customer, place):
    small = make_customer(org.rep_a, name="钱小多")
    place(small, "12")
    services.points_accrue()
    client = login(org.rep_a)
    page = client.get("/loyalty/").content.decode()
    assert page.count('data-testid="member-row"') == 2 and "王小二" in page and "2300" in page
    seniors = client.get("/loyalty/members/?tier=senior").content.decode()
    assert "王小二" in seniors and "钱小多" not in seniors
    found = client.get("/loyalty/members/?q=qxd").content.decode()  # pinyin initials
    assert "钱小多" in found and "王小二" not in found
    htmx = client.get("/loyalty/members/?tier=senior", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in htmx and "王小二" in htmx
    assert login(org.rep_b).get("/loyalty/").content.decode().count('data-testid="member-row"') == 0


def test_the_member_page_shows_tier_ledger_and_forms_for_whom_they_are(org, login, member):
    rep = login(org.rep_a)
    page = rep.get(f"/loyalty/members/{member.pk}/").content.decode()
    assert 'data-testid="ledger-row"' in page and "+2300" in page
    assert 'data-testid="tier-history"' in page and 'data-testid="adjust-form"' not in page
    assert 'data-testid="redeem-gift-form"' in page
    manager = login(org.east_manager)
    page = manager.get(f"/loyalty/members/{member.pk}/").content.decode()
    assert 'data-testid="adjust-form"' in page and 'data-testid="tier-form"' in page
    done = manager.post(f"/loyalty/members/{member.pk}/adjust/", {"points": "-300", "reason": "退货补扣"})
    assert done.status_code == 302 and Member.objects.get(customer=member).points == 2000
    refused = manager.post(f"/loyalty/members/{member.pk}/adjust/", {"points": "-5000", "reason": "太多"})
    assert refused.status_code == 422 and 'data-field-error="points"' in refused.content.decode()
    assert Member.objects.get(customer=member).points == 2000


def test_spending_points_and_issuing_from_the_member_page(org, login, member):
    definition = services.coupon_definition_create(
        actor=org.admin, data={"name": "积分换券", "value": 20, "points_cost": 500}
    )
    rep = login(org.rep_a)
    page = rep.get(f"/loyalty/members/{member.pk}/").content.decode()
    assert "积分换券" in page
    rep.post(f"/loyalty/members/{member.pk}/redeem/coupon/", {"definition": definition.pk, "key": "page-1"})
    rep.post(f"/loyalty/members/{member.pk}/redeem/coupon/", {"definition": definition.pk, "key": "page-1"})
    assert Member.objects.get(customer=member).points == 1800  # the repeated post bought once
    rep.post(f"/loyalty/members/{member.pk}/redeem/gift/", {"gift": "帆布包", "points": "100", "key": "g"})
    assert PointsEntry.objects.filter(customer=member, source="gift").count() == 1
    rep.post(f"/loyalty/members/{member.pk}/invitation/")
    code = Member.objects.get(customer=member).referral_code
    assert code and code in rep.get(f"/loyalty/members/{member.pk}/").content.decode()


def test_the_customer_page_has_a_membership_panel(org, login, member):
    page = login(org.rep_a).get(f"/customers/{member.pk}/").content.decode()
    assert 'data-testid="membership-panel"' in page and f"/loyalty/members/{member.pk}/" in page


def test_the_tiers_page_and_its_editing_are_for_admins_and_managers(org, login):
    rep = login(org.rep_a)
    page = rep.get("/loyalty/tiers/").content.decode()
    assert page.count('data-testid="tier-row"') == 4 and 'data-testid="new-tier"' not in page
    assert rep.get("/loyalty/settings/").status_code == 403
    admin = login(org.admin)
    assert 'data-testid="new-tier"' in admin.get("/loyalty/tiers/").content.decode()
    saved = admin.post(
        "/loyalty/settings/",
        {
            "points_per_yuan": "2",
            "earn_on": "paid",
            "expiry": "next_year_end",
            "expiry_months": "12",
            "notice_days": "30",
            "window_days": "365",
            "review": "yearly",
            "review_month": "1",
            "review_day": "1",
            "downgrade_steps": "1",
            "review_points": "10",
            "referrer_points": "100",
            "invitee_points": "50",
            "referral_link": "https://shop.example.com/join?ref={code}",
        },
    )
    assert saved.status_code == 302 and services.settings_get().points_per_yuan == 2
    assert services.referral_link(code="ABC") == "https://shop.example.com/join?ref=ABC"


def test_coupon_pages_define_generate_issue_and_redeem(org, login, buyer, make_customer, place):
    admin = login(org.admin)
    assert admin.get("/loyalty/coupons/new/").status_code == 200
    made = admin.post(
        "/loyalty/coupons/new/",
        {
            "name": "新客券",
            "kind": "amount",
            "value": "15",
            "min_spend": "50",
            "per_customer_limit": "1",
            "code_mode": "unique",
            "active": "on",
        },
    )
    definition = CouponDefinition.objects.get(name="新客券")
    assert made.status_code == 302
    admin.post(f"/loyalty/coupons/{definition.pk}/generate/", {"count": "3"})
    assert definition.coupons.count() == 3
    page = admin.get(f"/loyalty/coupons/{definition.pk}/").content.decode()
    assert page.count('data-testid="code-row"') == 3
    hidden = make_customer(org.rep_c, name="北方")
    issued = login(org.rep_a).post(
        f"/loyalty/coupons/{definition.pk}/issue/", {"customer_ids": f"{buyer.pk}, {hidden.pk}"}
    )
    assert issued.status_code == 200 and 'data-testid="skipped"' in issued.content.decode()
    coupon = Coupon.objects.get(customer=buyer)
    order = place(buyer, "60")
    redeem = login(org.rep_a).post(
        "/loyalty/coupons/redeem/", {"code": coupon.code, "order_number": order.number}
    )
    assert redeem.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.status, coupon.order) == ("redeemed", order)
    again = login(org.rep_a).post(
        "/loyalty/coupons/redeem/", {"code": coupon.code, "order_number": order.number}
    )
    assert again.status_code == 422
    assert (
        "新客券" in login(org.rep_b).get("/loyalty/coupons/").content.decode()
    )  # definitions are everyone's


def test_an_invited_customer_is_entered_on_the_small_page(org, login, member):
    code = services.member_referral_code(actor=org.rep_a, customer=member)
    client = login(org.rep_a)
    form = client.get(f"/loyalty/referrals/new/?code={code}").content.decode()
    assert f'value="{code}"' in form
    saved = client.post(
        "/loyalty/referrals/new/",
        {"code": code, "name": "介绍来的", "kind": "individual", "phone": "13600006666"},
    )
    referral = Referral.objects.get()
    assert saved.status_code == 302 and referral.invitee.name == "介绍来的" and referral.referrer == member
    wrong = client.post("/loyalty/referrals/new/", {"code": "ZZZZ2222", "name": "错码", "kind": "individual"})
    assert wrong.status_code == 422 and 'data-field-error="code"' in wrong.content.decode()


@pytest.mark.parametrize("user", ["rep_b", "rep_c"])
def test_another_teams_rep_gets_404_on_every_member_page(org, login, member, user):
    client = login(getattr(org, user))
    assert client.get(f"/loyalty/members/{member.pk}/").status_code == 404
    for path in ("adjust", "tier", "evaluate", "redeem/coupon", "redeem/gift", "issue", "invitation"):
        assert client.post(f"/loyalty/members/{member.pk}/{path}/", {}).status_code == 404
    page = client.get("/loyalty/?q=王小二").content.decode()
    assert 'data-testid="member-row"' not in page and "2300" not in page
    assert Member.objects.get(customer=member).points == 2300


def test_the_members_list_and_member_page_keep_to_a_query_budget(
    org, login, member, make_customer, place, django_assert_max_num_queries
):
    """The number of queries does not grow with the rows shown."""
    for i in range(12):
        place(make_customer(org.rep_a, name=f"预算客户{i}"), "10")
    services.points_accrue()
    client = login(org.rep_a)
    with django_assert_max_num_queries(11):
        page = client.get("/loyalty/")
    assert page.content.decode().count('data-testid="member-row"') == 13
    with django_assert_max_num_queries(22):
        assert client.get(f"/loyalty/members/{member.pk}/").status_code == 200
