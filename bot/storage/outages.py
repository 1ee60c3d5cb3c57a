"""Telling a database that is briefly gone from a bug: the first is worth waiting out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import exc

from bot.core.outages import through_outages
from bot.storage.direct_sql import DRIVER_ERRORS

P = ParamSpec("P")
S = TypeVar("S")
T = TypeVar("T")

_OUTAGE_ERRORS = (
    exc.OperationalError,  # refused, reset, "the database system is starting up", locked
    exc.InterfaceError,  # a connection closed under us
    exc.TimeoutError,  # no pooled connection came free in time
    *DRIVER_ERRORS,  # the same as the first two, from statements psycopg ran itself
    ConnectionError,
    TimeoutError,
)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached or answer, rather than that
    what we asked of it was wrong; only such an event is worth trying again."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _OUTAGE_ERRORS)


def waits_out_outages(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """For a method that is one whole transaction: tried again while the database is briefly
    gone (a restart), as the person's messages are, rather than failing a staff command."""

    @functools.wraps(method)
    async def waiting(owner: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await through_outages(lambda: method(owner, *args, **kwargs), is_database_outage)

    return waiting
