"""Routing: the first matching rule sends a new ticket to a team, and to an agent of that team on shift by the
rule's method (a named agent, round robin, or the one with the fewest open tickets)."""

from dataclasses import dataclass

from django.db.models import Count

from kehu.support.models import RoutingRule, ServiceAgent, Ticket
from kehu.users.models import OrgUnit, Role, User


@dataclass
class Route:
    team: OrgUnit
    assignee: User | None
    rule: RoutingRule


def _matches(rule: RoutingRule, ticket: Ticket, product_ids: set[int]) -> bool:
    if rule.ticket_type and rule.ticket_type != ticket.ticket_type:
        return False
    if rule.channel and rule.channel != ticket.channel:
        return False
    if rule.severity and ticket.severity > rule.severity:  # 1 is the most severe
        return False
    if rule.customer_level and (ticket.customer is None or ticket.customer.level != rule.customer_level):
        return False
    if rule.product_id and rule.product_id not in product_ids:
        return False
    if rule.category_id:
        lineage = {c.pk for c in ticket.category.lineage()} if ticket.category else set()
        if rule.category_id not in lineage:
            return False
    return True


def agents_on_shift(team_id: int) -> list[User]:
    """Active service agents (and managers) of the team who have not signed off their shift, by id."""
    off = ServiceAgent.objects.filter(on_shift=False).values("user_id")
    return list(
        User.objects.filter(
            is_active=True,
            memberships__unit_id=team_id,
            memberships__role__in=[Role.SERVICE_AGENT],
        )
        .exclude(pk__in=off)
        .distinct()
        .order_by("id")
    )


def _round_robin(rule: RoutingRule, agents: list[User]) -> User:
    after = [a for a in agents if rule.last_assignee_id is not None and a.pk > rule.last_assignee_id]
    return (after or agents)[0]


def _least_loaded(agents: list[User]) -> User:
    open_counts = dict(
        Ticket.objects.filter(assignee__in=agents, status__in=Ticket.OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return min(agents, key=lambda a: (open_counts.get(a.pk, 0), a.pk))


def route(ticket: Ticket, product_ids: set[int]) -> Route | None:
    """The route of the first matching active rule; None when no rule matches. Call inside a transaction: a
    round-robin rule is locked while it moves on."""
    rules = RoutingRule.objects.filter(active=True).select_related("category", "team", "assignee")
    for rule in rules.order_by("position", "id"):
        if not _matches(rule, ticket, product_ids):
            continue
        assignee = None
        if rule.method == RoutingRule.Method.FIXED:
            assignee = rule.assignee if rule.assignee and rule.assignee.is_active else None
        elif rule.method in (RoutingRule.Method.ROUND_ROBIN, RoutingRule.Method.LEAST_LOADED):
            agents = agents_on_shift(rule.team_id)
            if agents and rule.method == RoutingRule.Method.ROUND_ROBIN:
                rule = RoutingRule.objects.select_for_update().select_related("team").get(pk=rule.pk)
                assignee = _round_robin(rule, agents)
                RoutingRule.objects.filter(pk=rule.pk).update(last_assignee=assignee)
            elif agents:
                assignee = _least_loaded(agents)
        return Route(team=rule.team, assignee=assignee, rule=rule)
    return None


def team_leads(unit_id: int) -> list[User]:
    """The managers of a unit."""
    return list(
        User.objects.filter(is_active=True, memberships__unit_id=unit_id, memberships__role=Role.MANAGER)
        .distinct()
        .order_by("id")
    )


def managers_above(unit: OrgUnit, *, leads_of=team_leads) -> list[User]:
    """The managers of the nearest unit above `unit` that has any (`leads_of` may be a cached `team_leads`)."""
    for unit_id in reversed(unit.ancestor_ids[:-1]):
        found = leads_of(unit_id)
        if found:
            return found
    return []
