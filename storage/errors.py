"""The store's errors, in a module of their own: the command line names them without loading SQLAlchemy.

Every driver error that means "the store cannot be used right now" arrives as one of these (storage/db.py
translates them as they happen), so a command prints one line instead of a driver's traceback.
"""


class StoreError(Exception):
    """The store cannot be opened or used; the message says which URL (without its password) and why."""


class StoreBusy(StoreError):
    """Another writer held the store for longer than the wait allows: trying again later may work."""


class StoreUnavailable(StoreError):
    """The store is read-only, missing or unreachable: trying again will not help until that is fixed."""
