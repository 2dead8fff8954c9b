"""The sales part of /api/v1/, one router module per part of the sales process."""

from ninja import Router

from kehu.sales.api.leads import router as leads_router
from kehu.sales.api.opportunities import router as opportunities_router

router = Router()
router.add_router("/", opportunities_router)
router.add_router("/", leads_router)
