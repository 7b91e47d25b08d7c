"""Designating the main access manager (GAP): the guide's standard (I) and exceptional (II) procedures."""
