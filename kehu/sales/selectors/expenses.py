"""selectors for expenses (being written)."""
