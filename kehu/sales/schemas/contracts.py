"""schemas for contracts (being written)."""
