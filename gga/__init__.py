"""gga: command line and the pieces every package shares (error catalogue)."""
