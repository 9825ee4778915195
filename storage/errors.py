"""The store's error, in a module of its own: the command line names it without loading SQLAlchemy."""


class StoreError(Exception):
    """The store cannot be opened; the message says which URL (without its password) and why."""
