"""Retention: purging what has been kept long enough (deleted tasks)."""
