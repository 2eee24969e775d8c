"""Users context: accounts, managed by platform admins."""
