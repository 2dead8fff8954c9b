"""selectors for quotes (being written)."""
