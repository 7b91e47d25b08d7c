"""Persistence of the whole product: SQLAlchemy models, the database and its unit of work, Alembic migrations,
and read models (the sender directory). Imports ``kernel`` and ``keys`` only."""
