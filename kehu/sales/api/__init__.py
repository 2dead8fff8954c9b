"""The sales part of /api/v1/, one router module per part of the sales process."""

from ninja import Router

from kehu.sales.api.contracts import router as contracts_router
from kehu.sales.api.expenses import router as expenses_router
from kehu.sales.api.leads import router as leads_router
from kehu.sales.api.opportunities import router as opportunities_router
from kehu.sales.api.orders import router as orders_router
from kehu.sales.api.payments import router as payments_router
from kehu.sales.api.quotes import router as quotes_router
from kehu.sales.api.targets import router as targets_router

router = Router()
for part in (
    opportunities_router,
    leads_router,
    quotes_router,
    contracts_router,
    orders_router,
    payments_router,
    targets_router,
    expenses_router,
):
    router.add_router("/", part)
