"""The machine's floor for a durable message: how long one PostgreSQL COMMIT takes.

Each message the bot handles ends in one COMMIT, which waits for the server to flush its
write-ahead log to disk. On a disk whose flushes now and then take tens of milliseconds (they
come in bursts, with the server's checkpoints and the machine's other work), no code above
it can have a p99 below theirs. The soak runs this probe through its clean phase, ten
commits a second on a database of its own, and prints it beside its own latencies. One-row
transactions, one at a time and spaced out, on a fresh database:

    python -m bench.commit_floor --commits 3000

``--no-sync`` sets ``synchronous_commit = off`` for the measuring session only (what the bot
never does: an acknowledged message could be lost with the server) to show the flush's share.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from typing import Any

import psycopg

from bench.soak_process import PG_ADMIN

PROBE_DATABASE = "infopoint_commit_floor"


def commit_latency(
    commits: int | None = None,
    *,
    spacing: float = 0.01,
    until: threading.Event | None = None,
    synchronous: bool = True,
) -> dict[str, Any]:
    """p50, p99 and the worst of one-row INSERT + COMMIT round trips, in milliseconds:
    ``commits`` of them, or as many as fit until ``until`` is set, ``spacing`` seconds apart
    (so that each waits for its own flush)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PROBE_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PROBE_DATABASE}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PROBE_DATABASE}"
    seconds: list[float] = []
    try:
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text)")
            if not synchronous:
                connection.execute("SET synchronous_commit = off")
            connection.commit()
            while (commits is None or len(seconds) < commits) and not (until and until.is_set()):
                started = time.perf_counter()
                connection.execute("INSERT INTO probe (note) VALUES (%s)", (str(len(seconds)),))
                connection.commit()
                seconds.append(time.perf_counter() - started)
                time.sleep(spacing)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PROBE_DATABASE}" WITH (FORCE)')
    seconds.sort()
    return {
        "commits": len(seconds),
        "synchronous_commit": synchronous,
        "p50_ms": round(1000 * statistics.median(seconds), 2) if seconds else None,
        "p99_ms": round(1000 * seconds[int(0.99 * (len(seconds) - 1))], 2) if seconds else None,
        "max_ms": round(1000 * seconds[-1], 2) if seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--no-sync", dest="synchronous", action="store_false")
    args = parser.parse_args()
    print(json.dumps(commit_latency(args.commits, synchronous=args.synchronous), indent=2))


if __name__ == "__main__":
    main()
