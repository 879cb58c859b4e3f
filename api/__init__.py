"""ipledger HTTP API (FastAPI)."""
