"""Routes under /domains/{id}: access managers, users, CSV export and bulk actions."""
