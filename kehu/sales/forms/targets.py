"""forms for targets (being written)."""
