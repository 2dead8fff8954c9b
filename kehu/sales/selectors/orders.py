"""selectors for orders (being written)."""
