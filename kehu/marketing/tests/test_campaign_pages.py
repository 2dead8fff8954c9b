"""The campaign pages: a template is written and previewed per customer, a campaign is set up, shows its estimate,
is sent, and shows its results; the library, the suppression list and the consent panel on the customer page."""

from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.activities.tests.conftest import smtp  # noqa: F401 - a fixture
from kehu.marketing.models import Campaign, Consent, Material, MessageTemplate, Suppression
from kehu.marketing.services import segment_create

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_campaign_from_template_to_results(
    org,
    login,
    make_customer,
    smtp,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.KEHU = {**settings.KEHU, "QUIET_HOURS": "00:00-00:00"}  # whenever the suite runs
    customer = make_customer(org.rep_a, name="王小明", email="xiaoming@example.com", level="a")
    make_customer(org.rep_a, name="没同意", email="no@example.com", level="a")
    client = login(org.rep_a)
    client.post(
        f"/marketing/consents/{customer.pk}/", {"channel": "email", "granted": "1", "source": "门店登记"}
    )
    assert Consent.objects.get(customer=customer).status == "granted"
    overview = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="customer-consent"' in overview and "门店登记" in overview

    library = client.post(
        "/marketing/materials/",
        {
            "kind": "image",
            "name": "横幅",
            "file": SimpleUploadedFile("banner.png", PNG, content_type="image/png"),
        },
    )
    assert library.status_code == 302
    image = Material.objects.get()
    assert image.size == len(PNG) and "横幅" in client.get("/marketing/materials/").content.decode()

    refused = client.post(
        "/marketing/templates/new/",
        {"name": "x", "channel": "email", "subject_zh": "s", "body_zh": "{{nmae}}"},
    )
    assert "nmae" in refused.content.decode() and not MessageTemplate.objects.exists()
    saved = client.post(
        "/marketing/templates/new/",
        {
            "name": "会员日",
            "channel": "email",
            "subject_zh": "{{name}}，会员日快乐",
            "body_zh": f"{{{{image:{image.pk}}}}}\n\n{{{{name}}}}您好，上次买的{{{{last_product}}}}还满意吗？",
            "subject_en": "Member day, {{name}}",
            "body_en": "Hello {{name}}",
        },
    )
    template = MessageTemplate.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/marketing/templates/{template.pk}/"
    preview = client.get(f"/marketing/templates/{template.pk}/?customer={customer.pk}").content.decode()
    assert preview.count('data-testid="preview"') == 2  # Chinese and English
    assert "王小明，会员日快乐" in preview and "Member day, 王小明" in preview

    segment = segment_create(
        actor=org.rep_a,
        data={
            "name": "A级",
            "rules": {"match": "all", "rules": [{"field": "level", "op": "in", "value": ["a"]}]},
        },
    )
    created = client.post(
        "/marketing/campaigns/new/",
        {
            "name": "会员日",
            "channel": "email",
            "segments": [segment.pk],
            "template": template.pk,
            "schedule": "now",
            "attribution_days": 7,
        },
    )
    campaign = Campaign.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/marketing/campaigns/{campaign.pk}/"
    draft = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="estimate"' in draft and "2 位" in draft

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/marketing/campaigns/{campaign.pk}/launch/")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and [r for r, _m in smtp.messages] == [
        ["xiaoming@example.com"]
    ]
    html = smtp.messages[0][1].get_body(("html",)).get_content()
    assert "/m/a/" in html  # the library image, served without a login
    page = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="result-sent">1<' in page and 'data-testid="result-suppressed">1<' in page
    reasons = page.split('data-testid="reasons"')[1].split("</ul>")[0]
    assert "<span>1</span>" in reasons
    assert login(org.rep_b).get(f"/marketing/campaigns/{campaign.pk}/").status_code == 404


def test_the_suppression_list_is_for_managers(org, login):
    assert login(org.rep_a).get("/marketing/suppressions/").status_code == 403
    manager = login(org.east_manager)
    added = manager.post(
        "/marketing/suppressions/", {"channel": "sms", "address": "+86 138-0000-0001", "note": "投诉"}
    )
    assert added.status_code == 302
    row = Suppression.objects.get()
    assert row.address == "13800000001" and row.reason == "manual"
    bad = manager.post("/marketing/suppressions/", {"channel": "email", "address": "not-an-address"})
    assert "不是" in bad.content.decode() or "not a valid" in bad.content.decode()
    manager.post(f"/marketing/suppressions/{row.pk}/remove/")
    assert not Suppression.objects.exists()
