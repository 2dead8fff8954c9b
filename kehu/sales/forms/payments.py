"""forms for payments (being written)."""
