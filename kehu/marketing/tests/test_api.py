"""/api/v1/segments: the field catalogue, the live count, saving, editing with the version, the members through
the customer list, snapshots, and the scope."""

from tests.api_client import ApiClient

LEVEL_A = {"match": "all", "rules": [{"field": "level", "op": "in", "value": ["a"]}]}


def test_build_count_save_edit_and_list_members_through_the_api(org, make_customer):
    for name in ("甲一", "甲二"):
        make_customer(org.rep_a, name=name, level="a")
    make_customer(org.rep_a, name="乙", level="b")
    make_customer(org.rep_b, name="别组", level="a")
    rep = ApiClient(org.rep_a)

    fields = {f["key"]: f for f in rep.get("/segments/fields").json()}
    assert fields["level"]["type"] == "choice" and "in" in fields["level"]["ops"]
    assert ["a", "A级客户"] in fields["level"]["choices"]
    assert fields["last_purchase_at"]["type"] == "date"  # from the sales domain, through the hook
    assert rep.post("/segments/count", {"rules": LEVEL_A}).json() == {"count": 2}
    bad = rep.post("/segments/count", {"rules": {"match": "all", "rules": [{"field": "level", "op": "gt"}]}})
    assert bad.status_code == 422 and "rules.0.op" in bad.json()["fields"]

    made = rep.post("/segments", {"name": "A级客户", "rules": LEVEL_A})
    assert made.status_code == 201, made.content
    segment = made.json()
    assert segment["count"] == 2 and segment["owner"]["id"] == org.rep_a.pk
    members = rep.get("/customers", {"segment": f"segment:{segment['id']}"}).json()
    assert sorted(c["name"] for c in members["items"]) == ["甲一", "甲二"]

    patched = rep.patch(f"/segments/{segment['id']}", {"version": segment["version"], "name": "A级（改）"})
    assert patched.status_code == 200 and patched.json()["name"] == "A级（改）"
    stale = rep.patch(f"/segments/{segment['id']}", {"version": segment["version"], "name": "旧"})
    assert stale.status_code == 409
    snap = rep.post(f"/segments/{segment['id']}/snapshots")
    assert snap.status_code == 201 and snap.json()["size"] == 2
    assert [s["size"] for s in rep.get(f"/segments/{segment['id']}/snapshots").json()] == [2]

    other = ApiClient(org.rep_b)
    assert other.get(f"/segments/{segment['id']}").status_code == 404
    assert other.get("/customers", {"segment": f"segment:{segment['id']}"}).status_code == 422
    assert other.get("/segments").json() == []
    assert ApiClient(org.east_manager).get(f"/segments/{segment['id']}").json()["count"] == 3  # the region's
    assert rep.delete(f"/segments/{segment['id']}").status_code == 204
    assert rep.get("/segments").json() == []
