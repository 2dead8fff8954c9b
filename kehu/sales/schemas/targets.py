"""schemas for targets (being written)."""
