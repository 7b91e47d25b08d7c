"""FTP and explicit FTPS channel: pyftpdlib adapter (authorizer, filesystem, handlers, server thread)."""
