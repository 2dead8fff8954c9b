"""forms for orders (being written)."""
