"""selectors for contracts (being written)."""
