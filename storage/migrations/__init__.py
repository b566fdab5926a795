"""Alembic migrations of the gateway's schema; run them with :mod:`storage.migrate`."""
