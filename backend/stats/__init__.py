"""Project statistics from one aggregation pipeline."""
