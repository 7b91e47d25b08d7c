"""The web console at /console: the guide's screens for access managers, operators and ops, server-rendered.

Its routes call the same services and the same policy as /api/v1 (no rule is written twice); they only read forms,
render templates and translate errors next to their fields.
"""
