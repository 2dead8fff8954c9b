"""/api/v1/ targets."""

from ninja import Router

router = Router()
