"""What a recipient's mail client and browser reach without a login: the open pixel, tracked links, the
unsubscribe page (one click from the mail client, RFC 8058, or a button in the browser) and library images."""

import base64

from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kehu.core.exceptions import NotFound
from kehu.marketing import mailmerge, messaging
from kehu.marketing.models import Material, Message
from kehu.sales.pdf import company_letterhead

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


@never_cache
def opened(request, token: str):
    messaging.message_opened(token=token)
    return HttpResponse(PIXEL, content_type="image/gif")


def clicked(request, token: str):
    target = mailmerge.click_target(request.GET.get("to", ""))
    if target is None or not target.startswith(("http://", "https://")):
        raise Http404
    messaging.message_clicked(token=token)
    return HttpResponseRedirect(target)


@csrf_exempt  # the mail client's one-click POST carries no CSRF token; the unguessable token is the proof
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    message = Message.objects.select_related("customer").filter(token=token).first()
    if message is None:
        raise Http404
    if request.method == "POST":
        try:
            message = messaging.unsubscribe(token=token)
        except NotFound as exc:
            raise Http404 from exc
    context = {"message": message, "done": message.unsubscribed_at, "company": company_letterhead()["name"]}
    return render(request, "marketing/public/unsubscribe.html", context)


def material(request, signed: str):
    pk = mailmerge.material_for(signed)
    found = Material.objects.filter(pk=pk).exclude(file="").first() if pk else None
    if found is None:
        raise Http404
    return FileResponse(found.file.open("rb"), filename=found.file.name.rsplit("/", 1)[-1])
