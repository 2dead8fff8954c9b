"""schemas for quotes (being written)."""
