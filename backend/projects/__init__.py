"""Projects and their members: the access rules every project resource inherits."""
