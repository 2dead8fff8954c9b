"""selectors for targets (being written)."""
