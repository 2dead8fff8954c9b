"""schemas for payments (being written)."""
