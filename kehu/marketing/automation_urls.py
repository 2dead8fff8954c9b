"""Pages of the care automations (mounted inside the marketing namespace)."""

urlpatterns = []
