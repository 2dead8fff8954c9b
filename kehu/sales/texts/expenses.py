"""Notification and customer-timeline texts for expenses (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _  # noqa: F401

MESSAGES: dict = {}
EVENT_TEXTS: dict = {}
