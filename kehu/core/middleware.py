from django.http import Http404
from django.shortcuts import render

from kehu.core.exceptions import NotFound, PermissionDenied


class ApplicationErrorMiddleware:
    """Map domain errors that escape a view to pages, once: hidden or missing → 404, forbidden → 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message))
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        return None
