"""services for expenses (being written)."""
