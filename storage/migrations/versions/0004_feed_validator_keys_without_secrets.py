"""Feed validators keyed without credentials: a URL's user, password and query values leave the store.

Before, `feed_validators.url` was the feed URL as configured, so a feed read with a token in its
query or a password in its URL kept that secret in the store. Each such row is re-keyed the way
pipeline/provider_store.validator_key keys it (the masked URL plus a slow salted hash of the whole
URL), so a restart still finds its validators; rows without anything secret keep their key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import hashlib
from typing import Sequence, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROUNDS = 100_000  # as pipeline/provider_store.KEY_ROUNDS; a revision keeps its own copy, it imports no app code


def _masked(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, host + port, parts.path, query, ""))


def upgrade() -> None:
    table = sa.table('feed_validators', sa.column('url', sa.String))
    connection = op.get_bind()
    for (url,) in connection.execute(sa.select(table.c.url)).all():
        masked = _masked(url)
        if masked == url:
            continue
        if masked is None:  # not a URL we can re-key: a validator is only a cache, a full read replaces it
            connection.execute(table.delete().where(table.c.url == url))
            continue
        key = f"{masked}#{hashlib.pbkdf2_hmac('sha256', url.encode(), masked.encode(), ROUNDS).hex()[:32]}"
        connection.execute(table.delete().where(table.c.url == key))
        connection.execute(table.update().where(table.c.url == url).values(url=key))


def downgrade() -> None:
    pass  # the secrets are gone for good: the masked keys stay (an older release re-reads those feeds once)
