"""Using trained models: inference testing and export (no Qt)."""
