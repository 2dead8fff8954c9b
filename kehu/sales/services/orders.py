"""services for orders (being written)."""
