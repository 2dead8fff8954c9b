"""schemas for orders (being written)."""
