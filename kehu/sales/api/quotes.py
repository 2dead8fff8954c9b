"""/api/v1/ quotes."""

from ninja import Router

router = Router()
