"""Telling a database that is briefly gone from a bug: the first is worth waiting out."""

from __future__ import annotations

from sqlalchemy import exc

_OUTAGE_ERRORS = (
    exc.OperationalError,  # refused, reset, "the database system is starting up", locked
    exc.InterfaceError,  # a connection closed under us
    exc.TimeoutError,  # no pooled connection came free in time
    ConnectionError,
    TimeoutError,
)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached or answer, rather than that
    what we asked of it was wrong; only such an event is worth trying again."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _OUTAGE_ERRORS)
