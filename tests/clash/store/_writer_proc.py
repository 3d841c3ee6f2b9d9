"""Commit numbered transactions forever; print each n once it is committed.

Run by test_store_crash.py, which kill -9s it mid-stream: usage ``_writer_proc.py DB_PATH``.
Each transaction is one ``t_tx`` row plus three ``t_items`` rows, so a half-applied transaction
shows up as a count mismatch.
"""

import sys

import anyio

from clash.store import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS t_tx (n INTEGER PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS t_items (n INTEGER NOT NULL, k INTEGER NOT NULL)",
]


async def main(path: str) -> None:
    async with await Database.open(path) as db:
        async with db.transaction() as tx:
            for statement in SCHEMA:
                await tx.execute(statement)
            n = await tx.fetchval("SELECT coalesce(max(n), 0) FROM t_tx")
        while True:
            n += 1
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t_tx (n) VALUES (?)", (n,))
                await tx.executemany(
                    "INSERT INTO t_items (n, k) VALUES (?, ?)", [(n, k) for k in range(3)]
                )
            print(n, flush=True)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
