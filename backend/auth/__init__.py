"""Authentication: passwords, access and refresh tokens, personal access tokens."""
