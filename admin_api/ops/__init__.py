"""Routes for the ops role: the audit trail (and, with the gateway, the transfer log)."""
