"""SFTP channel: asyncssh adapter (authentication callbacks, jailed SFTP server) over the shared core."""
