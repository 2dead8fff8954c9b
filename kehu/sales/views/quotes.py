"""Pages for quotes."""


def opportunity_panel(request, opportunity):
    """A card on the opportunity overview: {"template": …, "data": {…}}, or None."""
    return None


def contract_panel(request, contract):
    """A card on the contract page: {"template": …, "data": {…}}, or None."""
    return None
