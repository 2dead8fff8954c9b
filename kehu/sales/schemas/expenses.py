"""schemas for expenses (being written)."""
