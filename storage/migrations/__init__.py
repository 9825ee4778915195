"""Alembic revisions of the store's schema (env.py, versions/); storage/migrate.py runs them."""
