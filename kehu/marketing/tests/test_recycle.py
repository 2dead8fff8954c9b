"""Binned campaigns, templates, automations and materials: listed in the recycle bin, restored, purged in order."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.marketing import automations, campaigns, messaging, recycle, services
from kehu.marketing.models import Automation, Campaign, Material, MessageTemplate, Segment


def test_binned_marketing_records_are_listed_restored_and_purged(org, login):
    segment = services.segment_create(actor=org.rep_a, data={"name": "回收分群", "rules": None})
    template = messaging.template_create(
        actor=org.rep_a,
        data={"name": "回收模板", "channel": "email", "subject_zh": "主题", "body_zh": "正文"},
    )
    campaign = campaigns.campaign_create(
        actor=org.rep_a,
        data={"name": "回收活动", "channel": "email", "template": template, "segments": [segment]},
    )
    care = automations.automation_create(
        actor=org.rep_a,
        data={
            "name": "回收关怀",
            "trigger": "birthday",
            "channel": "email",
            "template": template,
            "segment": segment,
        },
    )
    material = messaging.material_create(
        actor=org.rep_a, name="回收素材", kind="document", upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")
    )
    campaigns.campaign_delete(actor=org.rep_a, campaign=campaign)
    automations.automation_delete(actor=org.rep_a, automation=care)
    messaging.template_delete(actor=org.rep_a, template=template)
    messaging.material_delete(actor=org.rep_a, material=material)

    admin = login(org.admin)
    page = admin.get("/recycle-bin/").content.decode()
    assert all(name in page for name in ("回收活动", "回收关怀", "回收模板", "回收素材"))
    assert login(org.rep_b).post(f"/marketing/recycle/campaign/{campaign.pk}/restore/").status_code == 404
    restored = login(org.rep_a).post(f"/marketing/recycle/campaign/{campaign.pk}/restore/")
    assert restored.status_code == 302 and Campaign.objects.filter(pk=campaign.pk).exists()
    assert not recycle.binned(actor=org.rep_a)["campaign"]

    later = timezone.now() + datetime.timedelta(days=1)
    services.segment_delete(actor=org.rep_a, segment=segment)
    recycle.purge_expired(cutoff=later)
    services.segments_purge_expired(cutoff=later)
    assert not Automation.all_objects.filter(pk=care.pk).exists()
    assert not Material.all_objects.filter(pk=material.pk).exists()
    assert MessageTemplate.all_objects.filter(pk=template.pk).exists()  # the restored campaign still uses it
    assert Segment.all_objects.filter(pk=segment.pk).exists()  # so does it
    campaigns.campaign_delete(actor=org.rep_a, campaign=Campaign.objects.get(pk=campaign.pk))
    recycle.purge_expired(cutoff=later + datetime.timedelta(days=1))
    services.segments_purge_expired(cutoff=later + datetime.timedelta(days=1))
    assert not MessageTemplate.all_objects.filter(pk=template.pk).exists()
    assert not Segment.all_objects.filter(pk=segment.pk).exists()
