"""services for payments (being written)."""
