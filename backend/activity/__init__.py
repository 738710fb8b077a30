"""The append-only activity log of each project, and the live event stream built on it."""
