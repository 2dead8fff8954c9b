"""forms for expenses (being written)."""
