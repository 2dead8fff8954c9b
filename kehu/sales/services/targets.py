"""services for targets (being written)."""
