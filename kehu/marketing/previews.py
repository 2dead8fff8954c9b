"""A template as one customer would get it, in the language it is sent in and in the other one."""

from kehu.core import sms
from kehu.marketing import delivery, mailmerge
from kehu.marketing.models import Channel, MessageTemplate


def preview(template: MessageTemplate, customer, *, language: str | None = None) -> dict:
    values = mailmerge.values_for([customer.pk]).get(customer.pk, {})
    values.setdefault("coupon_code", "KH-XXXX-XXXX")
    values.setdefault("survey_link", mailmerge.site_url("/q/…/"))
    if template.channel == Channel.SMS:
        text = (
            sms.signed(sms.render(template.sms_template, mailmerge.sms_params(values)))
            if template.sms_template
            else ""
        )
        return {"subject": "", "text": text, "html": "", "segments": sms.segments(text) if text else 0}
    if language:
        template = MessageTemplate(
            subject_zh=template.subject_zh if language == "zh-hans" else "",
            body_zh=template.body_zh if language == "zh-hans" else "",
            subject_en=template.subject_en,
            body_en=template.body_en,
        )
    images = delivery.material_images([template])
    subject, text, html = mailmerge.render_email(template, values, token=None, images=images)
    return {"subject": subject, "text": text, "html": html, "segments": 0}
