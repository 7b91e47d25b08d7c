"""The bottom layer: error catalogue, settings, tickets and sequences, UTC time, reference data (application
catalogue, message texts, Belgian identifiers). Imports nothing of the project."""
