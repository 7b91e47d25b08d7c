"""Routes for the ops role (and applications): the audit trail, the transfer log, return files."""
