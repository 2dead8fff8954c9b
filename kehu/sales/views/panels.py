"""Cards other parts of the sales process add to the opportunity and contract pages. Each part's view module
offers `opportunity_panel(request, opportunity)` and `contract_panel(request, contract)`, returning
{"template": name, "data": {…}} or None; the page includes each template with `data` in its context."""

from kehu.sales.views import contracts, expenses, orders, payments, quotes


def opportunity_panels(request, opportunity) -> list[dict]:
    found = (
        module.opportunity_panel(request, opportunity) for module in (quotes, contracts, orders, expenses)
    )
    return [panel for panel in found if panel]


def contract_panels(request, contract) -> list[dict]:
    found = (module.contract_panel(request, contract) for module in (payments, orders))
    return [panel for panel in found if panel]
