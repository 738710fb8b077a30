"""Liveness, readiness and metrics for ops."""
