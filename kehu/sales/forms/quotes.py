"""forms for quotes (being written)."""
