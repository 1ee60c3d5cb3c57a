"""A transaction's first statement sent with its BEGIN, and its last with its COMMIT.

On psycopg's own connections (driver_transactions.py) a message was four round trips:
BEGIN, its claim with its person, its writes, COMMIT. Each costs the bot's one core some
35 µs in psycopg and the event loop (a probe on uvloop: 361 against 281 µs a message with
them and without), and PostgreSQL a wake-up. libpq sends one statement of
the extended protocol at a time; psycopg's pipeline mode could send more, but its own work
cost more than the round trips it saved (README). The simple protocol takes several
statements in one query, only with their values written into the text; so the first and
last statements are prepared once per connection (``PREPARE``) and sent as
``BEGIN; EXECUTE name(values)`` and ``EXECUTE name(values); COMMIT``, their values written
in by psycopg's client-side cursor, which quotes them as PostgreSQL reads them. The
connection is in autocommit mode, so psycopg sends no BEGIN of its own; the statements in
between go as before, on the extended protocol, inside the transaction the first began.

Should one of these statements fail, PostgreSQL's log records it with its values, which it
does not for the extended protocol's parameters by default; the README says so.

A prepared statement outlives a rollback, but psycopg deallocates all of a connection's on
its rollbacks: so after one, ``forget_prepared`` deallocates them all too, and they are
prepared again when next used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import NullType

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True, slots=True)
class _Named:
    """A compiled statement as a named prepared statement."""

    name: str
    prepare: str
    order: tuple[str, ...]
    """The parameters' names, in the order of ``$1``, ``$2``…"""
    execute: str


_NAMED: dict[SQLCompiler, _Named] = {}
"""Keyed by the compiled statements, which direct_sql.py keeps for good."""
_PLACEHOLDER: Final = re.compile(r"%%|%\(([^)]+)\)s")


def _named(compiled: SQLCompiler, dialect: Dialect) -> _Named:
    named = _NAMED.get(compiled)
    if named is None:
        named = _NAMED[compiled] = _name(compiled, dialect, f"infopoint_{len(_NAMED)}")
    return named


def _name(compiled: SQLCompiler, dialect: Dialect, name: str) -> _Named:
    """The statement with ``$n`` for its pyformat placeholders (as psycopg itself turns
    them), and each parameter's type as its column's, so that nothing is left to guess."""
    order: list[str] = []

    def positional(found: re.Match[str]) -> str:
        parameter = found.group(1)
        if parameter is None:
            return "%"
        if parameter not in order:
            order.append(parameter)
        return f"${order.index(parameter) + 1}"

    text = _PLACEHOLDER.sub(positional, compiled.string)
    types = ", ".join(_type_name(compiled, parameter, dialect) for parameter in order)
    declared = f" ({types})" if order else ""
    values = ", ".join(["%s"] * len(order))
    return _Named(
        name,
        f"PREPARE {name}{declared} AS {text}",
        tuple(order),
        f"EXECUTE {name}({values})" if order else f"EXECUTE {name}",
    )


def _type_name(compiled: SQLCompiler, parameter: str, dialect: Dialect) -> str:
    type_ = compiled.binds[parameter].type
    if isinstance(type_, NullType):
        return "unknown"  # PostgreSQL takes it from where the parameter stands
    return str(dialect.type_compiler_instance.process(type_))


class DriverStatements:
    """The statements of one psycopg connection in autocommit mode, for its transactions."""

    def __init__(self, connection: psycopg.AsyncConnection[Any], dialect: Dialect) -> None:
        import psycopg  # noqa: PLC0415 - the postgres extra; a SQLite install lacks it

        self.cursor = connection.cursor()
        """The extended protocol's cursor, for the statements in between: a cursor keeps the
        value converters it looked up, by type, for the next statement."""
        self._client = psycopg.AsyncClientCursor(connection)
        self._dialect = dialect
        self._prepared: set[str] = set()

    async def bracketing(
        self,
        compiled: SQLCompiler,
        values: Mapping[str, Any],
        *,
        begin: bool,
        commit: bool,
        rows: bool,
    ) -> tuple[Any, ...] | None:
        """Run a statement with the transaction's BEGIN before it, its COMMIT after it, or
        both; its first row, when it has ``rows``."""
        named = _named(compiled, self._dialect)
        if named.name not in self._prepared:
            # A round trip of its own, once per connection: a failure in the same query
            # would leave it unknown whether the statement was prepared.
            await self._client.execute(named.prepare)
            self._prepared.add(named.name)
        query = f"{'BEGIN; ' if begin else ''}{named.execute}{'; COMMIT' if commit else ''}"
        await self._client.execute(query, [values[name] for name in named.order])
        if begin:
            self._client.nextset()  # past BEGIN's result, to the statement's
        return await self._client.fetchone() if rows else None

    async def forget_prepared(self) -> None:
        """After a rollback: deallocate what psycopg may have left, and prepare anew."""
        self._prepared.clear()
        await self._client.execute("DEALLOCATE ALL")
