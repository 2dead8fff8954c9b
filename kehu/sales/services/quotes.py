"""services for quotes (being written)."""
