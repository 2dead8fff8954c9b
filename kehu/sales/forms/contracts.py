"""forms for contracts (being written)."""
