"""/api/v1/loyalty/…: round trips through members, their ledgers, adjustments, redemptions, tiers, coupons and
referrals, with the scope of the customers: a rep never reaches another team's member."""

import pytest

from kehu.loyalty import services
from tests.api_client import ApiClient


@pytest.fixture
def accrued(org, buyer, place):
    place(buyer, "500")
    services.points_accrue()
    return buyer


def test_members_ledger_adjust_and_redeem_round_trip(org, accrued, django_assert_max_num_queries):
    rep = ApiClient(org.rep_a)
    with django_assert_max_num_queries(12):
        listed = rep.get("/loyalty/members").json()
    assert [(m["customer"]["id"], m["points"], m["tier"]["key"]) for m in listed["items"]] == [
        (accrued.pk, 500, "regular")
    ]
    detail = rep.get(f"/loyalty/members/{accrued.pk}").json()
    assert detail["next_tier"]["key"] == "senior" and detail["expiring_points"] == 500

    assert rep.post(f"/loyalty/members/{accrued.pk}/adjust", {"points": 10, "reason": "x"}).status_code == 403
    manager = ApiClient(org.east_manager)
    adjusted = manager.post(f"/loyalty/members/{accrued.pk}/adjust", {"points": -20, "reason": "多发"})
    assert adjusted.status_code == 201 and adjusted.json()["balance"] == 480
    too_much = manager.post(f"/loyalty/members/{accrued.pk}/adjust", {"points": -481, "reason": "x"})
    assert too_much.status_code == 422 and "points" in too_much.json()["fields"]

    gift = rep.post(f"/loyalty/members/{accrued.pk}/redeem", {"gift": "保温杯", "points": 80, "key": "a1"})
    assert gift.status_code == 201 and gift.json()["entry"]["points"] == -80
    assert (
        rep.post(
            f"/loyalty/members/{accrued.pk}/redeem", {"gift": "保温杯", "points": 80, "key": "a1"}
        ).json()["entry"]["id"]
        == gift.json()["entry"]["id"]
    )
    ledger = rep.get(f"/loyalty/members/{accrued.pk}/ledger").json()["items"]
    assert [(e["kind"], e["points"], e["balance"]) for e in ledger] == [
        ("redeem", -80, 400),
        ("adjust", -20, 480),
        ("earn", 500, 500),
    ]
    review = rep.post(f"/loyalty/members/{accrued.pk}/reviews", {"reference": "rv-1"})
    assert review.status_code == 201 and review.json()["balance"] == 410


def test_tiers_evaluate_and_set_by_api(org, accrued, place):
    rep, admin = ApiClient(org.rep_a), ApiClient(org.admin)
    tiers = rep.get("/loyalty/tiers").json()
    assert [t["key"] for t in tiers] == ["regular", "senior", "vip", "supreme"]
    assert rep.post(f"/loyalty/members/{accrued.pk}/evaluate").status_code == 403
    place(accrued, "1600")
    assert admin.post(f"/loyalty/members/{accrued.pk}/evaluate").json()["tier"]["key"] == "senior"
    vip = next(t for t in tiers if t["key"] == "vip")
    moved = admin.post(f"/loyalty/members/{accrued.pk}/tier", {"tier_id": vip["id"], "reason": "奖励"})
    assert moved.status_code == 200 and moved.json()["tier"]["key"] == "vip"
    history = rep.get(f"/loyalty/members/{accrued.pk}/tier-history").json()
    assert [(h["to_tier"]["key"], h["reason"]) for h in history] == [("vip", "manual"), ("senior", "upgrade")]
    changed = admin.put(
        f"/loyalty/tiers/{vip['id']}",
        {**{k: vip[k] for k in ("key", "name", "position")}, "min_spend": "6000", "min_orders": 12},
    )
    assert changed.status_code == 200 and changed.json()["min_spend"] == "6000.00"
    assert (
        rep.put(f"/loyalty/tiers/{vip['id']}", {"key": "vip", "name": "x", "position": 3}).status_code == 403
    )
    assert rep.get("/loyalty/settings").json()["points_per_yuan"] == "1.00"


def test_coupon_definitions_issue_and_redeem_by_api(org, accrued, place, make_customer):
    admin, rep = ApiClient(org.admin), ApiClient(org.rep_a)
    assert rep.post("/loyalty/coupon-definitions", {"name": "x", "value": "5"}).status_code == 403
    made = admin.post(
        "/loyalty/coupon-definitions",
        {"name": "满100减10", "value": "10", "min_spend": "100", "quantity": 5, "points_cost": 100},
    )
    assert made.status_code == 201, made.content
    definition = made.json()
    assert admin.post(f"/loyalty/coupon-definitions/{definition['id']}/generate", {"count": 2}).json() == {
        "count": 2
    }
    other = make_customer(org.rep_a, name="第二位")
    hidden = make_customer(org.rep_b, name="别组的")
    issued = rep.post(
        f"/loyalty/coupon-definitions/{definition['id']}/issue",
        {"customer_ids": [accrued.pk, other.pk, hidden.pk]},
    ).json()
    assert sorted(int(k) for k in issued["issued"]) == [accrued.pk, other.pk]
    assert list(issued["skipped"]) == [str(hidden.pk)]
    order = place(accrued, "120")
    redeemed = rep.post(
        "/loyalty/coupons/redeem", {"code": issued["issued"][str(accrued.pk)], "order_id": order.pk}
    )
    assert redeemed.status_code == 200 and redeemed.json()["status"] == "redeemed"
    assert redeemed.json()["discount"] == "10.00"
    again = rep.post(
        "/loyalty/coupons/redeem", {"code": issued["issued"][str(accrued.pk)], "order_id": order.pk}
    )
    assert again.status_code == 422 and "code" in again.json()["fields"]
    bought = rep.post(f"/loyalty/members/{other.pk}/redeem", {"definition_id": definition["id"]})
    assert bought.status_code == 422  # no points
    codes = admin.get(f"/loyalty/coupon-definitions/{definition['id']}/codes").json()["items"]
    assert len(codes) == 2 and {c["status"] for c in codes} == {"issued", "redeemed"}
    assert rep.get(f"/loyalty/coupon-definitions/{definition['id']}/codes").status_code == 403
    assert [c["code"] for c in rep.get(f"/loyalty/members/{accrued.pk}/coupons").json()] == [
        issued["issued"][str(accrued.pk)]
    ]
    patched = admin.patch(
        f"/loyalty/coupon-definitions/{definition['id']}", {"version": 1, "name": "满100减10元"}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert (
        admin.patch(
            f"/loyalty/coupon-definitions/{definition['id']}", {"version": 1, "name": "旧"}
        ).status_code
        == 409
    )
    assert admin.delete(f"/loyalty/coupon-definitions/{definition['id']}").status_code == 204
    assert rep.get(f"/loyalty/coupon-definitions/{definition['id']}").status_code == 404


def test_referral_link_and_invitee_by_api(org, accrued):
    rep = ApiClient(org.rep_a)
    assert rep.get(f"/loyalty/members/{accrued.pk}/referral").json()["code"] == ""
    made = rep.post(f"/loyalty/members/{accrued.pk}/referral").json()
    assert len(made["code"]) == 8 and made["link"].endswith(f"/loyalty/referrals/new/?code={made['code']}")
    linked = rep.post(
        "/loyalty/referrals", {"code": made["code"], "customer": {"name": "新客", "phone": "13700007777"}}
    )
    assert linked.status_code == 201 and linked.json()["status"] == "pending"
    assert [
        r["invitee_id"] for r in rep.get(f"/loyalty/members/{accrued.pk}/referral").json()["invited"]
    ] == [linked.json()["invitee_id"]]
    myself = rep.post("/loyalty/referrals", {"code": made["code"], "customer_id": accrued.pk})
    assert myself.status_code == 201 and (myself.json()["status"], myself.json()["refusal"]) == (
        "refused",
        "self",
    )


@pytest.mark.parametrize("user", ["rep_b", "rep_c"])
def test_another_teams_rep_reaches_nothing_of_the_member(org, accrued, user):
    other = ApiClient(getattr(org, user))
    assert other.get("/loyalty/members").json()["items"] == []
    assert other.get("/loyalty/members", {"q": accrued.name}).json()["items"] == []
    for path in ("", "/ledger", "/tier-history", "/coupons", "/referral"):
        assert other.get(f"/loyalty/members/{accrued.pk}{path}").status_code == 404
    for path, body in (
        ("/adjust", {"points": 1, "reason": "x"}),
        ("/redeem", {"gift": "x", "points": 1}),
        ("/reviews", {"reference": "x"}),
        ("/evaluate", {}),
        ("/referral", {}),
    ):
        assert other.post(f"/loyalty/members/{accrued.pk}{path}", body).status_code == 404
    assert (
        other.post("/loyalty/referrals", {"code": "ABCDEFGH", "customer_id": accrued.pk}).status_code == 422
    )
    assert (
        other.post("/loyalty/coupons/redeem", {"code": "X2345678", "customer_id": accrued.pk}).status_code
        == 422
    )
    assert ApiClient(org.east_manager).get(f"/loyalty/members/{accrued.pk}").status_code == 200
