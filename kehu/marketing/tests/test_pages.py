"""The segment pages: the builder re-renders with the live count as conditions change, saves, and the list."""

from kehu.marketing.models import Segment


def test_the_builder_counts_as_conditions_change_and_saves_the_segment(org, login, make_customer):
    for name, level in (("甲一", "a"), ("甲二", "a"), ("乙一", "b")):
        make_customer(org.rep_a, name=name, level=level)
    make_customer(org.rep_b, level="a")
    client = login(org.rep_a)
    page = client.get("/marketing/segments/new/")
    assert page.status_code == 200 and 'data-testid="builder"' in page.content.decode()

    htmx = {"HTTP_HX_REQUEST": "true"}
    chosen = client.post(
        "/marketing/segments/new/", {"match": "all", "field-0": "level"}, **htmx
    ).content.decode()
    assert (
        'name="op-0"' in chosen and "3 位客户" in chosen
    )  # a field alone: its operators, nothing filtered yet
    counted = client.post(
        "/marketing/segments/new/", {"match": "all", "field-0": "level", "op-0": "in", "value-0": "a"}, **htmx
    ).content.decode()
    assert "2 位客户" in counted
    added = client.post(
        "/marketing/segments/new/",
        {"match": "all", "field-0": "level", "op-0": "in", "value-0": "a", "add": "1"},
        **htmx,
    ).content.decode()
    assert 'name="field-1"' in added
    wrong = client.post(
        "/marketing/segments/new/",
        {"match": "all", "field-0": "order_count", "op-0": "gt", "value-0": "x"},
        **htmx,
    ).content.decode()
    assert 'data-testid="rule-errors"' in wrong

    saved = client.post(
        "/marketing/segments/new/",
        {"save": "1", "name": "A级", "match": "all", "field-0": "level", "op-0": "in", "value-0": "a"},
    )
    segment = Segment.objects.get()
    assert saved.status_code == 302 and saved["Location"].endswith(f"?segment=segment:{segment.pk}")
    members = client.get(saved["Location"]).content.decode()
    assert "A级" in members
    assert "甲一" in members and "甲二" in members and "乙一" not in members
    assert "A级" in client.get("/marketing/segments/").content.decode()
    assert "A级" not in login(org.rep_b).get("/marketing/segments/").content.decode()
    assert login(org.rep_b).get(f"/marketing/segments/{segment.pk}/edit/").status_code == 404


def test_a_binned_segment_is_listed_in_the_recycle_bin_and_restored(org, login):
    from kehu.marketing import services

    segment = services.segment_create(actor=org.rep_a, data={"name": "双十一回购", "rules": None})
    client = login(org.rep_a)
    client.post(f"/marketing/segments/{segment.pk}/delete/")
    assert "双十一回购" not in client.get("/marketing/segments/").content.decode()
    assert login(org.rep_b).post(f"/marketing/segments/{segment.pk}/restore/").status_code == 404
    admin = login(org.admin)
    assert "双十一回购" in admin.get("/recycle-bin/").content.decode()  # the bin is the system admins'
    admin.post(f"/marketing/segments/{segment.pk}/restore/")
    assert "双十一回购" in login(org.rep_a).get("/marketing/segments/").content.decode()
