"""/api/v1/ expenses."""

from ninja import Router

router = Router()
