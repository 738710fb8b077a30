"""Tasklane: an async MongoDB document API for projects and tasks."""
