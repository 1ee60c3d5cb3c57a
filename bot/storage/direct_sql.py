"""The per-message statements, run by psycopg itself on PostgreSQL.

A message runs about six small statements. Through SQLAlchemy's async engine each one costs
the bot's single core three times what psycopg alone costs (execution context, result
object, a greenlet hop per call), and that CPU bounds both the bot's throughput and its
latency under load (``bench/engine_cpu.py`` measures it). So the hot path's statements are
still written with SQLAlchemy Core, compiled once for the dialect, and on PostgreSQL handed
to the psycopg connection under the transaction with the same type conversions SQLAlchemy
would make; on any other database (SQLite) they go through SQLAlchemy as usual. They run in
the transaction their caller opened and will end: SQLAlchemy's (``AsyncConnection.begin``),
or, for a person's message on PostgreSQL, psycopg's own (``TransactionSql.on_driver``, see
driver_transactions.py).

Only statements that need nothing of SQLAlchemy's execution (no Python-side column defaults,
no escaped parameter names) are accepted; anything else is refused when first compiled.

Writes whose outcome nothing reads can wait for the end of the transaction (``later``): on
PostgreSQL they then go as one statement, the others attached to the last as data-modifying
CTEs, since each statement's round trip costs the bot more CPU than the database's work on
it. Such writes run on one snapshot and must not touch the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Executable, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

if TYPE_CHECKING:
    import psycopg

Row = Mapping[str, Any]
_Convert = Callable[[Any], Any]


def _driver_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg  # noqa: PLC0415 - the postgres extra; a SQLite install lacks it
    except ImportError:
        return ()
    return (psycopg.OperationalError, psycopg.InterfaceError)


DRIVER_ERRORS: Final = _driver_errors()
"""What psycopg raises when the server is gone. SQLAlchemy wraps these in its own errors,
but the statements psycopg runs itself raise them unwrapped."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for one dialect and one set of parameter names."""

    compiled: SQLCompiler
    converters: tuple[tuple[str, _Convert], ...]
    """Parameters whose Python value the driver cannot take as it is (JSON)."""
    columns: tuple[str, ...]
    results: tuple[_Convert | None, ...]


# Keyed by the statements themselves (compared by identity), which keeps them alive: the
# callers' statements are module constants, so these stay as small as the code.
_PLANS: dict[tuple[Executable, Dialect, frozenset[str]], _Plan] = {}
_MERGED: dict[tuple[Update, ...], Update] = {}
_CURSOR: Final = "infopoint.cursor"
"""Where a pooled connection's ``info`` keeps the cursor these statements use on it."""


def _plan(statement: Executable, dialect: Dialect, names: frozenset[str]) -> _Plan:
    key = (statement, dialect, names)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _compile(statement, dialect, names)
    return plan


def _compile(statement: Executable, dialect: Dialect, names: frozenset[str]) -> _Plan:
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=sorted(names))
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"not a SQL statement: {statement!r}")
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.escaped_bind_names:
        raise ValueError(f"needs SQLAlchemy's execution (defaults, escaping): {compiled}")
    converters = tuple(
        (name, convert)
        for name, bind in compiled.binds.items()
        if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    exported = getattr(statement, "exported_columns", ())
    return _Plan(
        compiled,
        converters,
        tuple(column.key for column in exported),
        tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in exported
        ),
    )


_Write = tuple[Update, dict[str, Any]]


def _merged(writes: Sequence[_Write]) -> _Write | None:
    """The writes as one statement, the last with the others as its CTEs, and its
    parameters; None if two writes give one parameter name different values."""
    params: dict[str, Any] = {}
    for _, own in writes:
        for name, value in own.items():
            if name in params and params[name] != value:
                return None
            params[name] = value
    key = tuple(statement for statement, _ in writes)
    statement = _MERGED.get(key)
    if statement is None:
        *first, (last, _) = writes
        ctes = [earlier.cte(f"write_{index}") for index, (earlier, _) in enumerate(first)]
        statement = _MERGED[key] = last.add_cte(*ctes)
    return statement, params


class TransactionSql:
    """The statements of one transaction, on ``connection``; see the module's docstring.

    Statements should be module constants: each one's compiled form is kept for good.
    """

    def __init__(
        self,
        connection: AsyncConnection | None = None,
        *,
        dialect: Dialect | None = None,
        cursor: psycopg.AsyncCursor[Any] | None = None,
    ) -> None:
        """On SQLAlchemy's ``connection``; or, with none, on psycopg's ``cursor`` alone
        (see ``on_driver``)."""
        self._connection = connection
        if connection is not None:
            dialect = connection.dialect
        elif dialect is None or cursor is None:
            raise TypeError("without a connection, a dialect and a cursor are needed")
        self.dialect = dialect
        self._direct = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self._cursor = cursor
        self._later: list[_Write] = []

    @classmethod
    def on_driver(cls, dialect: Dialect, cursor: psycopg.AsyncCursor[Any]) -> TransactionSql:
        """The statements of a transaction that psycopg itself runs on ``cursor``'s
        connection (``dialect`` compiles them), with no SQLAlchemy connection around it."""
        return cls(dialect=dialect, cursor=cursor)

    @property
    def connection(self) -> AsyncConnection:
        """The SQLAlchemy connection these statements run on (there is none ``on_driver``)."""
        if self._connection is None:
            raise RuntimeError("these statements run on psycopg's connection alone")
        return self._connection

    def later(self, statement: Update, params: Mapping[str, Any]) -> None:
        """Run this UPDATE with ``run_later``, with the other writes waiting there."""
        self._later.append((statement, dict(params)))

    async def run_later(self) -> None:
        """Run the writes ``later`` collected: on PostgreSQL as one statement, when their
        parameters agree wherever their names meet; otherwise one by one, in order."""
        writes, self._later = self._later, []
        merged = _merged(writes) if self._direct and len(writes) > 1 else None
        if merged is not None:
            # Its SET clauses are all written out: parameters named like a column of the last
            # write's table (another write's) must not be taken for more of its values.
            await self._run(*merged, value_names=False)
            return
        for statement, params in writes:
            await self.execute(statement, params)

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> None:
        if not self._direct:
            await self.connection.execute(statement, params)
            return
        await self._run(statement, params)

    async def execute_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        if not self._direct:
            await self.connection.execute(statement, list(rows))
            return
        for params in rows:
            await self._run(statement, params)

    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Row | None:
        if not self._direct:
            found = (await self.connection.execute(statement, params)).first()
            return None if found is None else cast(Row, found._mapping)
        return await self._run(statement, params)

    async def scalar(self, statement: Executable, params: Mapping[str, Any]) -> Any:
        row = await self.first(statement, params)
        return None if row is None else next(iter(row.values()))

    async def _run(
        self, statement: Executable, params: Mapping[str, Any], *, value_names: bool = True
    ) -> Row | None:
        """``value_names``: whether parameters named like columns are the statement's values
        (an INSERT without ``values()``), as SQLAlchemy takes them."""
        plan = _plan(statement, self.dialect, frozenset(params) if value_names else frozenset())
        values = plan.compiled.construct_params(params)
        for name, convert in plan.converters:
            values[name] = convert(values[name])
        cursor = self._cursor or await self._driver_cursor()
        await cursor.execute(plan.compiled.string, values)
        if not plan.columns:
            return None
        found = await cursor.fetchone()
        if found is None:
            return None
        return {
            name: value if convert is None else convert(value)
            for name, value, convert in zip(plan.columns, found, plan.results, strict=True)
        }

    async def _driver_cursor(self) -> psycopg.AsyncCursor[Any]:
        """The psycopg connection's cursor for these statements, one for its whole life: a
        cursor keeps the value converters it looked up, by type, for the next statement."""
        import psycopg  # noqa: PLC0415 - only here is the driver known to be psycopg

        raw = await self.connection.get_raw_connection()
        driver = raw.driver_connection
        if not isinstance(driver, psycopg.AsyncConnection):
            raise TypeError(f"expected psycopg's async connection, got {type(driver)!r}")
        # The pool's record of the connection keeps it; SQLAlchemy empties ``info`` when it
        # replaces the connection, and the check below covers any other way to a new one.
        cursor = raw.info.get(_CURSOR)
        if cursor is None or cursor.connection is not driver:
            cursor = raw.info[_CURSOR] = driver.cursor()
        self._cursor = cursor
        return cast("psycopg.AsyncCursor[Any]", cursor)
