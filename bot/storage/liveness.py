"""Telling a pooled PostgreSQL connection the server has closed, without asking the server.

SQLAlchemy's ``pool_pre_ping`` sends a statement on every checkout: one more round trip per
message, about 3 % of the bot's CPU under load. But when the server ends a connection (a
restart, an administrator's ``pg_terminate_backend``, an idle timeout), it says so: it sends a
last error and closes the socket, so the idle connection's socket becomes readable. A pooled
connection has nothing else to read while idle (the bot uses no LISTEN), so a readable socket
means the connection is finished, and the check costs one ``poll`` with no waiting, as the Go
MySQL driver's ``connCheck`` does. (Should the server ever send an idle connection anything
else, such as a notice, that connection is replaced for nothing: one connect.)

What this cannot see is a server that vanished without a word (its host lost power, the
network between dropped): the first statement then fails, and the per-message path waits the
outage out and tries again, as it does for a server that is down.
"""

from __future__ import annotations

import select
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc
from sqlalchemy.engine import Engine
from sqlalchemy.event import listen

from bot.storage.direct_sql import DRIVER_ERRORS

if TYPE_CHECKING:
    import psycopg


def discard_connections_the_server_closed(engine: Engine) -> None:
    """Check each connection ``engine``'s pool hands out; a closed one is replaced first."""
    listen(engine, "checkout", _refuse_if_closed)


def _refuse_if_closed(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    """A pool ``checkout`` hook: SQLAlchemy opens a new connection in place of one refused
    with DisconnectionError (and a refused new one as well fails the checkout)."""
    if is_finished(dbapi_connection.driver_connection):  # the psycopg connection
        raise exc.DisconnectionError("the server closed this pooled connection")


def is_finished(driver: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle psycopg connection was closed, or ended by the server."""
    try:
        return driver.closed or driver.broken or _has_input(driver.fileno())
    except DRIVER_ERRORS:  # no socket left to ask
        return True


def _has_input(descriptor: int) -> bool:
    """Whether the socket has something to read, or was closed by the peer, right now."""
    poller = select.poll()
    # A hang-up or an error is reported whatever was asked for.
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))
