"""Admin API: the access-management model of the CSAM guide (enterprises, managers, domains, users, senders)."""
