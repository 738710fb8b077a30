"""Watchers of tasks, notifications and the live per-user stream (issue 19, "People")."""
