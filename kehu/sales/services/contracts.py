"""services for contracts (being written)."""
