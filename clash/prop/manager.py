"""One actor per open prop account, under the "prop" supervisor: spawned at start for every account
not finalized yet, spawned when an account opens, stopped when it is finalized."""

from __future__ import annotations

import anyio

from actors import Ref, RestartPolicy, System
from clash.prop import tables
from clash.prop.account import AccountDeps, PropAccount
from clash.prop.config import PropConfig
from clash.prop.prices import PriceSource
from clash.store import Database

SUPERVISOR = "prop"


class PropError(Exception):
    def __init__(self, account_id: str, message: str) -> None:
        super().__init__(message)
        self.account_id = account_id


class AccountNotFound(PropError, LookupError):
    def __init__(self, account_id: str) -> None:
        super().__init__(account_id, f"no prop account {account_id!r}")


class AccountFinalized(PropError):
    def __init__(self, account_id: str) -> None:
        super().__init__(account_id, f"prop account {account_id!r} is finalized")


def actor_name(account_id: str) -> str:
    return f"prop/{account_id}"


class PropManager:
    def __init__(
        self, system: System, db: Database, prices: PriceSource, config: PropConfig
    ) -> None:
        self.system = system
        self.db = db
        self.writer = tables.Writer(db)
        self.deps = AccountDeps(db, self.writer, prices, config)
        self._refs: dict[str, Ref] = {}
        self._lock = anyio.Lock()

    async def start(self) -> None:
        cfg = self.deps.config
        self.system.supervisor(
            SUPERVISOR,
            policy=RestartPolicy(max_restarts=cfg.max_restarts, within=cfg.restart_window_s),
        )
        async with self.db.read() as r:
            open_ids = await tables.open_account_ids(r)
        for account_id in open_ids:
            self.spawn(account_id)

    def spawn(self, account_id: str) -> Ref:
        ref = self.system.spawn(
            actor_name(account_id),
            lambda: PropAccount(account_id, self.deps),
            supervisor=SUPERVISOR,
        )
        self._refs[account_id] = ref
        return ref

    async def ref(self, account_id: str) -> Ref:
        """The account's actor; raises `AccountNotFound` or `AccountFinalized`."""
        if (ref := self._refs.get(account_id)) is not None:
            return ref
        async with self._lock:
            if (ref := self._refs.get(account_id)) is not None:
                return ref
            async with self.db.read() as r:
                row = await tables.account(r, account_id)
            if row is None:
                raise AccountNotFound(account_id)
            if row.finalized_at_ms is not None:
                raise AccountFinalized(account_id)
            return self.spawn(account_id)

    async def retire(self, account_id: str) -> None:
        """Stop the actor of a finalized account."""
        if self._refs.pop(account_id, None) is not None:
            await self.system.stop(actor_name(account_id))

    @property
    def open_accounts(self) -> list[str]:
        return list(self._refs)
