"""Tasks: the heart of the tracker."""
