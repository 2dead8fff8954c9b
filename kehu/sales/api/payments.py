"""/api/v1/ payments."""

from ninja import Router

router = Router()
