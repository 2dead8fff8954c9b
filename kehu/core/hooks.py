"""A small, explicit hook registry so a lower domain can let upper domains react without importing them.

Handlers run synchronously inside the caller's transaction, in registration order. Upper domains register
in their AppConfig.ready(). Events in use:

- ``user.handover``: (actor, user, successor) — move a departing user's records.
- ``customer.merged``: (actor, survivor, merged) — move records that point at the merged customer.
- ``customer.event``: (actor, customer, event, data) — something happened that belongs on the timeline.
- ``notify``: (recipient, kind, params, url) — tell a user something.
- ``recycle.sections``: (actor) — a list of {"title", "items": [{"label", "detail", "deleted_at", "deleted_by",
  "restore_url"}]} an upper domain adds to the recycle bin page.
- ``dashboard.panels``: (request) — a list of {"template", "data"} cards an upper domain adds to the dashboard.
- ``customer.binned``: (customer, binned) — a customer went into the recycle bin (or came back, binned=False).
- ``customer.pool_actions``: (request) — buttons {"label", "url", "icon"} an upper domain adds to the pool page.
- ``customers.kept``: (customer_ids) — the set of binned customers that must not be purged yet.
- ``customer.has_open_deal``: (customer) — true when an upper domain has a deal in progress for the customer.
- ``customer.segment``: (segment, actor) — (Q over customers, label) when an upper domain knows the segment
  (e.g. ``rfm_class:important_value``), else None; the customer list's ``segment`` filter. The label names only
  records the actor may see.
- ``segment.fields``: () — fields {key, label, type, path, choices} over customers that marketing segments may
  select by (``path`` a lookup from Customer).
- ``customer.tab``: (request, customer, tab) — context an upper domain adds to a customer page tab; an
  ``overview_panels`` list names templates shown on the overview.
"""

from collections import defaultdict
from collections.abc import Callable

_handlers: dict[str, list[Callable]] = defaultdict(list)


def register(hook: str, handler: Callable) -> None:
    if handler not in _handlers[hook]:
        _handlers[hook].append(handler)


def emit(hook: str, /, **payload) -> list:
    return [handler(**payload) for handler in _handlers[hook]]
