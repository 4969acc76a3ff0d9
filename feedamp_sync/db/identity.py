"""This database's own identity, which generated seller numbers carry (migration 0006)."""

from __future__ import annotations

import base64
import secrets
from typing import Final

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from feedamp_sync.db import tables as t
from feedamp_sync.db.errors import raises_database_error

IDENTITY_KEY: Final = "database_identity"


def database_identity(conn: Connection) -> str:
    """The identity, read in the caller's transaction (one short row). A database whose row
    was deleted gets a new one here, never an old one again."""
    value = conn.scalar(select(t.meta.c.value).where(t.meta.c.key == IDENTITY_KEY))
    if value is not None:
        return str(value)
    try:
        with conn.begin_nested():  # another instance may write it at the same moment
            conn.execute(t.meta.insert().values(key=IDENTITY_KEY, value=new_identity()))
    except IntegrityError:
        pass
    return str(conn.scalar(select(t.meta.c.value).where(t.meta.c.key == IDENTITY_KEY)))


def new_identity() -> str:
    """Eight characters of base32 (40 random bits): short enough for a seller number."""
    return base64.b32encode(secrets.token_bytes(5)).decode()


@raises_database_error
def database_identity_of(engine: Engine) -> str:
    """:func:`database_identity` in a transaction of its own, for ``status``."""
    with engine.begin() as conn:
        return database_identity(conn)
