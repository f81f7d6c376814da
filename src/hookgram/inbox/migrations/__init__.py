"""Alembic migrations of the inbox schema, shipped in the package (see ``inbox/schema.py``)."""
