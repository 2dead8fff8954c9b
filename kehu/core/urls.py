from django.http import HttpResponse
from django.urls import path

app_name = "core"


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("healthz", healthz, name="healthz")]
