"""selectors for payments (being written)."""
