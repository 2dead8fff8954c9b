"""Campaigns: a mailing to the customers of some segments, on e-mail or SMS, now, at a time or on a schedule, in
one or two variants (A/B by a stable hash of the customer), within a budget.

Launching makes a `CampaignRun` and a job. The job reads the audience (the owner's visible customers in any of
the segments) page by page, stores a message per customer — queued, or not sent with the rule's reason — and then
hands the queued ones over. During the quiet hours the job waits until they end. A recurring campaign gets its
next run time when a run starts; the scheduler's `campaigns_due` launches what is due.
"""

import calendar
import datetime
import hashlib
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.exceptions import PermissionDenied, ValidationFailed
from kehu.core.records import check_version, move_to_recycle_bin, save_audited
from kehu.loyalty.models import CouponDefinition
from kehu.loyalty.services.coupons import coupons_issue_many
from kehu.marketing import delivery, rules
from kehu.marketing.messaging import may_edit
from kehu.marketing.models import Campaign, CampaignRun, Channel, Message, MessageTemplate, Segment
from kehu.surveys.models import Survey
from kehu.surveys.services import invitations_create_many
from kehu.users import scoping
from kehu.users.models import User
from kehu.users.services import primary_unit_of

FIELDS = (
    "name",
    "goal",
    "channel",
    "template",
    "template_b",
    "share_b",
    "schedule",
    "send_at",
    "every",
    "budget",
    "attribution_days",
    "coupon",
    "survey",
)


def next_time(moment: datetime.datetime, every: str) -> datetime.datetime:
    """The run after `moment`: a day, a week or a calendar month later (the 31st becomes the month's last day)."""
    if every == Campaign.Every.DAY:
        return moment + datetime.timedelta(days=1)
    if every == Campaign.Every.WEEK:
        return moment + datetime.timedelta(weeks=1)
    local = timezone.localtime(moment)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def _visible(actor: User, model, value):
    if value is None or value == "":
        return None
    if isinstance(value, model):
        value = value.pk
    found = model.objects.filter(scoping.visible_q(actor, model), pk=value).first()
    return found


def _clean(actor: User, data: dict) -> tuple[dict, list[Segment]]:
    problems: dict[str, str] = {}
    name = (data.get("name") or "").strip()
    if not name:
        problems["name"] = _("Name the campaign.")
    channel = data.get("channel")
    if channel not in Channel.values:
        problems["channel"] = _("Choose e-mail or SMS.")
    template = _visible(actor, MessageTemplate, data.get("template"))
    template_b = _visible(actor, MessageTemplate, data.get("template_b"))
    if template is None:
        problems["template"] = _("Choose a template.")
    elif template.channel != channel:
        problems["template"] = _("This template is for another channel.")
    share_b = int(data.get("share_b") or 0)
    if template_b is not None:
        if template_b.channel != channel:
            problems["template_b"] = _("This template is for another channel.")
        if not 1 <= share_b <= 99:
            problems["share_b"] = _("Give variant B a share between 1 and 99 %.")
    else:
        share_b = 0
    segments = [_visible(actor, Segment, value) for value in data.get("segments") or []]
    if not segments or None in segments:
        problems["segments"] = _("Choose one or more of your segments.")
    schedule = data.get("schedule") or Campaign.Schedule.NOW
    send_at, every = data.get("send_at"), data.get("every") or ""
    if schedule not in Campaign.Schedule.values:
        problems["schedule"] = _("Choose now, at a time or recurring.")
    elif schedule == Campaign.Schedule.NOW:
        send_at, every = None, ""
    elif send_at is None:
        problems["send_at"] = _("Say when to send.")
    if schedule == Campaign.Schedule.RECURRING and every not in Campaign.Every.values:
        problems["every"] = _("Say how often.")
    if schedule == Campaign.Schedule.AT:
        every = ""
    budget = data.get("budget")
    if budget not in (None, "") and Decimal(budget) < 0:
        problems["budget"] = _("A budget cannot be negative.")
    days = int(data.get("attribution_days") if data.get("attribution_days") is not None else 7)
    if not 0 <= days <= 365:
        problems["attribution_days"] = _("Between 0 and 365 days.")
    coupon = data.get("coupon")
    if coupon and not isinstance(coupon, CouponDefinition):  # company-wide: every user may hand them out
        coupon = CouponDefinition.objects.filter(pk=coupon).first()
    if data.get("coupon") and coupon is None:
        problems["coupon"] = _("Choose one of the coupons.")
    survey = _visible(actor, Survey, data.get("survey")) if data.get("survey") else None
    if data.get("survey") and (survey is None or survey.status != Survey.Status.PUBLISHED):
        problems["survey"] = _("Choose a published survey you see.")
    if problems:
        raise ValidationFailed(fields=problems)
    clean = {
        "coupon": coupon,
        "survey": survey,
        "name": name[:120],
        "goal": (data.get("goal") or "").strip()[:255],
        "channel": channel,
        "template": template,
        "template_b": template_b,
        "share_b": share_b,
        "schedule": schedule,
        "send_at": send_at,
        "every": every,
        "budget": Decimal(budget) if budget not in (None, "") else None,
        "attribution_days": days,
    }
    return clean, segments


@transaction.atomic
def campaign_create(*, actor: User, data: dict) -> Campaign:
    if not may_edit(actor):
        raise PermissionDenied()
    unit = primary_unit_of(actor)
    if unit is None:
        raise ValidationFailed(_("You belong to no unit, so a campaign of yours would have nowhere to live."))
    clean, segments = _clean(actor, data)
    campaign = Campaign(owner=actor, org_unit=unit, **clean)
    save_audited(campaign, actor=actor, reason="created", bump_version=False)
    campaign.segments.set(segments)
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, data: dict, version: int | None) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_edit(actor, campaign):
        raise PermissionDenied()
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED, Campaign.Status.PAUSED):
        raise ValidationFailed(_("A campaign that is sending or done cannot be changed; copy it instead."))
    check_version(campaign, version, fields=list(FIELDS))
    current = {field: getattr(campaign, field) for field in FIELDS}
    current["segments"] = list(campaign.segments.all())
    clean, segments = _clean(actor, {**current, **data})
    for field, value in clean.items():
        setattr(campaign, field, value)
    if campaign.status == Campaign.Status.SCHEDULED:
        campaign.next_run_at = campaign.send_at
    save_audited(campaign, actor=actor, reason="edited")
    campaign.segments.set(segments)
    return campaign


@transaction.atomic
def campaign_delete(*, actor: User, campaign: Campaign) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_edit(actor, campaign):
        raise PermissionDenied()
    if campaign.status == Campaign.Status.SENDING:
        raise ValidationFailed(_("Cancel the campaign before deleting it."))
    move_to_recycle_bin(campaign, actor=actor)


@transaction.atomic
def campaign_launch(*, actor: User, campaign: Campaign, now: datetime.datetime | None = None) -> Campaign:
    """Send now, or schedule for the campaign's time."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_edit(actor, campaign):
        raise PermissionDenied()
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PAUSED):
        raise ValidationFailed(_("Only a draft or paused campaign can be launched."))
    now = now or timezone.now()
    if campaign.schedule == Campaign.Schedule.NOW:
        run_start(campaign=campaign, actor=actor, now=now)
    else:
        if campaign.schedule == Campaign.Schedule.AT and campaign.send_at <= now:
            raise ValidationFailed(fields={"send_at": _("This time has passed; choose a later one.")})
        campaign.status, campaign.next_run_at = Campaign.Status.SCHEDULED, campaign.send_at
        save_audited(campaign, actor=actor, reason="scheduled")
    return campaign


@transaction.atomic
def campaign_pause(*, actor: User, campaign: Campaign) -> Campaign:
    """Stop a scheduled or sending campaign; queued messages stay queued until it is launched again."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_edit(actor, campaign):
        raise PermissionDenied()
    if campaign.status not in (Campaign.Status.SCHEDULED, Campaign.Status.SENDING):
        raise ValidationFailed(_("Only a scheduled or sending campaign can be paused."))
    campaign.status, campaign.next_run_at = Campaign.Status.PAUSED, None
    save_audited(campaign, actor=actor, reason="paused")
    return campaign


@transaction.atomic
def campaign_cancel(*, actor: User, campaign: Campaign) -> Campaign:
    """Stop for good: what is still queued is not sent."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_edit(actor, campaign):
        raise PermissionDenied()
    if campaign.status in (Campaign.Status.SENT, Campaign.Status.CANCELLED):
        raise ValidationFailed(_("The campaign has already ended."))
    campaign.status, campaign.next_run_at = Campaign.Status.CANCELLED, None
    save_audited(campaign, actor=actor, reason="cancelled")
    Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).delete()
    CampaignRun.objects.filter(campaign=campaign, finished_at__isnull=True).update(
        status=CampaignRun.Status.CANCELLED, finished_at=timezone.now()
    )
    return campaign


def run_start(*, campaign: Campaign, actor: User | None, now: datetime.datetime) -> CampaignRun:
    """A new run of the campaign (inside the caller's transaction), processed by a job after commit."""
    run = CampaignRun.objects.create(campaign=campaign, started_at=now, started_by=actor)
    campaign.status = Campaign.Status.SENDING
    campaign.next_run_at = (
        next_time(max(campaign.next_run_at or now, now), campaign.every)
        if campaign.schedule == Campaign.Schedule.RECURRING
        else None
    )
    save_audited(campaign, actor=actor, reason="run started")
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int, after: datetime.datetime | None = None) -> None:
    from kehu.marketing.tasks import campaign_run_process  # tasks import this module

    if after is None:
        campaign_run_process.enqueue(run_id)
    elif campaign_run_process.get_backend().supports_defer:
        campaign_run_process.using(run_after=after).enqueue(run_id)


def campaigns_due(*, now: datetime.datetime | None = None) -> int:
    """The scheduler's pass: start the runs of scheduled and recurring campaigns whose time has come."""
    now = now or timezone.now()
    started = 0
    due = Campaign.objects.filter(
        status__in=(Campaign.Status.SCHEDULED, Campaign.Status.SENT), next_run_at__lte=now
    ).values_list("pk", flat=True)
    for campaign_id in list(due):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update().filter(pk=campaign_id, next_run_at__lte=now).first()
            )
            if campaign is None:
                continue
            run_start(campaign=campaign, actor=None, now=now)
            started += 1
    return started


def variant_picker(campaign: Campaign):
    """Variant B for a stable share of customers: the same customer lands in the same variant every run."""
    if campaign.template_b_id is None or not campaign.share_b:
        return lambda customer_id: "A"

    def pick(customer_id: int) -> str:
        digest = hashlib.blake2b(f"{campaign.pk}:{customer_id}".encode(), digest_size=4).digest()
        return "B" if int.from_bytes(digest, "big") % 100 < campaign.share_b else "A"

    return pick


def run_process(*, run_id: int, now: datetime.datetime | None = None) -> str:
    """The job: prepare the run's messages (once), then hand them over, unless it is quiet time or the campaign
    was paused or cancelled. Returns what it did."""
    now = now or timezone.now()
    run = CampaignRun.objects.select_related("campaign__template__sms_template", "campaign__owner").get(
        pk=run_id
    )
    campaign = run.campaign
    if run.status in (CampaignRun.Status.DONE, CampaignRun.Status.CANCELLED):
        return "ended"
    if campaign.status in (Campaign.Status.PAUSED, Campaign.Status.CANCELLED):
        return "stopped"
    if rules.in_quiet_hours(now):
        _enqueue(run.pk, after=rules.quiet_ends(now))
        return "quiet"
    if run.status == CampaignRun.Status.PREPARING:
        run_prepare(run, now)
    pending = Message.objects.filter(run=run)
    delivery.release_stalled(pending)
    delivery.send_pending(pending)
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(
        status=Campaign.Status.SCHEDULED
        if campaign.schedule == Campaign.Schedule.RECURRING
        else Campaign.Status.SENT
    )
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.DONE, finished_at=timezone.now())
    return "sent"


def run_prepare(run: CampaignRun, now: datetime.datetime) -> int:
    """Store the run's messages, a page of customers at a time (resumable: a page already stored is skipped)."""
    campaign = run.campaign
    templates = {"A": campaign.template, "B": campaign.template_b or campaign.template}
    pick = variant_picker(campaign)
    cost = (
        delivery.sms_price() * delivery.sms_segments(campaign.template)
        if campaign.channel == Channel.SMS
        else 0
    )
    spent = Decimal(0)
    budget = campaign.budget if campaign.channel == Channel.SMS else None
    seen: set[str] = set(
        Message.objects.filter(run=run).exclude(address="").values_list("address", flat=True)
    )
    done = set(Message.objects.filter(run=run).values_list("customer_id", flat=True))
    customers = delivery.audience(campaign.owner, [s.rules for s in campaign.segments.all()], now)
    size = 0
    for page in delivery.customer_pages(customers):
        size += len(page)
        page = [row for row in page if row[0] not in done]
        if not page:
            continue
        screened = rules.screen(page, channel=campaign.channel, now=now, seen=seen)
        if budget is not None:
            capped = []
            for recipient in screened:
                if not recipient.reason:
                    if spent + cost > budget:
                        recipient = rules.Recipient(
                            recipient.customer_id, recipient.address, Message.Reason.BUDGET
                        )
                    else:
                        spent += cost
                capped.append(recipient)
            screened = capped
        variant = {r.customer_id: pick(r.customer_id) for r in screened}
        with transaction.atomic():
            contexts = _contexts(campaign, [r.customer_id for r in screened if not r.reason], now)
            delivery.queue(
                screened,
                template_of=lambda customer_id, chosen=variant: templates[chosen[customer_id]],
                variant_of=variant.__getitem__,
                channel=campaign.channel,
                now=now,
                run=run,
                campaign=campaign,
                context_of=contexts.get,
            )
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING, audience=size)
    run.status = CampaignRun.Status.SENDING
    return size


def _contexts(campaign: Campaign, customer_ids: list[int], now: datetime.datetime) -> dict[int, dict]:
    """What the run fixes on each message: a coupon code of its own and a personal survey link."""
    contexts: dict[int, dict] = {customer_id: {} for customer_id in customer_ids}
    if not customer_ids:
        return contexts
    if campaign.coupon_id:
        issued = coupons_issue_many(
            actor=campaign.owner, definition=campaign.coupon, customer_ids=customer_ids
        )
        for customer_id, code in issued.items():
            contexts[customer_id]["coupon_code"] = code
    if campaign.survey_id:
        links = invitations_create_many(
            survey=campaign.survey,
            customer_ids=customer_ids,
            channel=campaign.channel,
            source={"campaign": campaign.pk},
            now=now,
        )
        for customer_id, url in links.items():
            contexts[customer_id]["survey_link"] = url
    return contexts
