"""People: accounts, profiles and global roles."""
