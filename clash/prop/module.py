"""The prop module: its public API is the methods of `PropModule`, nothing else.

Every change to an account is a message to that account's actor (`ask`), so the actions on one
account are serialised; reads of history (orders, fills, ledger, equity) come from committed rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_args

import msgspec

from actors import ActorStopped, Clock, Message
from clash.market import MarketModule
from clash.prop import tables
from clash.prop.book import open_account
from clash.prop.config import PropConfig
from clash.prop.fills import Position
from clash.prop.gates import Action, Limits
from clash.prop.manager import AccountFinalized, AccountNotFound, PropManager
from clash.prop.messages import (
    AccountKind,
    AccountRow,
    AccountSnapshot,
    AdminOp,
    PropControl,
    PropFinalize,
    PropRefused,
    PropSnapshot,
    PropSubmit,
    SubmitResult,
)
from clash.prop.prices import MarketPrices, NoPrices, PriceSource
from clash.prop.tables import AdminRow, EquityPoint, FillRow, LedgerRow, OrderRow, Write
from clash.store import Database, Session

if TYPE_CHECKING:
    from clash.runtime import Runtime

_LIMIT_FIELDS = set(Limits.__struct_fields__)


class PropModule:
    name = "prop"
    package = "clash.prop"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: PropConfig,
        prices: PriceSource,
        manager: PropManager,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.prices = prices
        self.manager = manager

    @staticmethod
    def register_checks(db: Database) -> None:
        db.register_check("prop.ledger", tables.check_ledger)

    @classmethod
    async def start(cls, rt: Runtime, *, prices: PriceSource | None = None) -> PropModule:
        """Start the account actors; prices come from the market module (`prices` replaces it)."""
        if prices is None:
            market = rt.find(MarketModule)
            prices = MarketPrices(market) if market is not None else NoPrices()
        manager = PropManager(rt.system, rt.db, prices, rt.config.prop)
        await manager.start()
        return cls(rt.db, rt.clock, rt.config.prop, prices, manager)

    # -- accounts ----------------------------------------------------------------------------------
    async def open_account(
        self,
        clone_id: int,
        kind: AccountKind,
        *,
        universe: list[str],
        owner_user_id: str | None = None,
        starting_equity_micro: int | None = None,
        limits: Limits | Mapping[str, Any] | None = None,
        account_id: str | None = None,
    ) -> str:
        """Open a funded account (one deposit row) and start its actor; returns its id.

        `limits` is a full `Limits` or overrides of the configured defaults by field name.
        """
        if isinstance(clone_id, bool) or not isinstance(clone_id, int) or clone_id < 1:
            raise ValueError(f"clone_id must be a positive integer, not {clone_id!r}")
        if kind not in get_args(AccountKind):
            raise ValueError(f"kind must be one of {get_args(AccountKind)}, not {kind!r}")
        symbols = list(dict.fromkeys(universe))
        if not symbols or not all(isinstance(s, str) and s for s in symbols):
            raise ValueError("universe must be a non-empty list of symbols")
        account_limits = self._limits(limits, starting_equity_micro)
        account_id = account_id or f"pa_{uuid.uuid4().hex[:20]}"
        now = self.clock.now_ms()
        opened = open_account(now, account_limits)
        book = opened.book
        row = AccountRow(
            **book.book_state(),
            account_id=account_id,
            clone_id=clone_id,
            owner_user_id=owner_user_id,
            kind=kind,
            universe=symbols,
            limits=account_limits,
            created_at_ms=now,
        )
        await self.manager.writer.write(
            Write(
                account_id=account_id,
                insert_account=row,
                ledger=[
                    LedgerRow(None, account_id, e.kind, e.amount_micro, e.symbol, e.ref, e.at_ms)
                    for e in opened.ledger
                ],
                snapshot=EquityPoint.of(AccountSnapshot.of(row, book, now)),
            )
        )
        self.manager.spawn(account_id)
        return account_id

    def _limits(
        self, limits: Limits | Mapping[str, Any] | None, starting_equity_micro: int | None
    ) -> Limits:
        if isinstance(limits, Limits):
            base = limits
        else:
            overrides = dict(limits or {})
            unknown = set(overrides) - _LIMIT_FIELDS
            if unknown:
                raise ValueError(f"unknown limits: {sorted(unknown)}")
            fields = msgspec.structs.asdict(self.config.limits.to_limits()) | overrides
            try:
                base = msgspec.convert(fields, Limits)
            except msgspec.ValidationError as exc:
                raise ValueError(f"bad limits: {exc}") from None
        if starting_equity_micro is not None:
            base = msgspec.structs.replace(base, starting_equity_micro=starting_equity_micro)
        if base.starting_equity_micro <= 0:
            raise ValueError("starting equity must be positive")
        return base

    async def submit(self, account_id: str, action: Action) -> SubmitResult:
        """Gate and paper-fill `action`. Idempotent on `action.action_id`: a resubmit answers the
        first result (with `replayed=True`) and fills nothing."""
        try:
            return await self._ask(account_id, PropSubmit(action=action))
        except AccountFinalized:
            async with self.db.read() as r:
                recorded = await tables.action_result(r, account_id, action.action_id)
            if recorded is None:
                raise
            return msgspec.structs.replace(recorded, replayed=True)

    async def snapshot(self, account_id: str) -> AccountSnapshot:
        """The account now; for a finalized account, its frozen result."""
        try:
            return await self._ask(account_id, PropSnapshot())
        except AccountFinalized:
            return await self._result(account_id)

    async def pause(self, account_id: str, admin: str) -> AccountSnapshot:
        return await self._control(account_id, "pause", admin)

    async def resume(self, account_id: str, admin: str) -> AccountSnapshot:
        return await self._control(account_id, "resume", admin)

    async def flatten(self, account_id: str, admin: str) -> AccountSnapshot:
        return await self._control(account_id, "flatten", admin)

    async def kill(self, account_id: str, admin: str) -> AccountSnapshot:
        return await self._control(account_id, "kill", admin)

    async def finalize(self, account_id: str) -> AccountSnapshot:
        """Freeze the account: a last mark, the result snapshot written, the actor stopped.
        Finalizing twice answers the same result."""
        try:
            frozen = await self._ask(account_id, PropFinalize())
        except AccountFinalized:
            return await self._result(account_id)
        await self.manager.retire(account_id)
        return frozen

    # -- reads of committed rows -------------------------------------------------------------------
    async def account(self, account_id: str) -> AccountRow:
        async with self.db.read() as r:
            row = await tables.account(r, account_id)
        if row is None:
            raise AccountNotFound(account_id)
        return row

    async def accounts_of_clone(self, clone_id: int) -> list[AccountRow]:
        async with self.db.read() as r:
            return await tables.accounts_of_clone(r, clone_id)

    async def positions(self, account_id: str) -> list[Position]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.positions(r, account_id)

    async def orders(
        self, account_id: str, limit: int = 50, before: int | None = None
    ) -> list[OrderRow]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.orders(r, account_id, limit, before)

    async def fills(
        self, account_id: str, limit: int = 50, before: int | None = None
    ) -> list[FillRow]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.fills(r, account_id, limit, before)

    async def ledger(
        self, account_id: str, limit: int = 50, before: int | None = None
    ) -> list[LedgerRow]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.ledger(r, account_id, limit, before)

    async def equity(
        self, account_id: str, since_ms: int, limit: int = 10_000
    ) -> list[EquityPoint]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.equity(r, account_id, since_ms, limit)

    async def admin_actions(self, account_id: str) -> list[AdminRow]:
        async with self.db.read() as r:
            await self._exists(r, account_id)
            return await tables.admin_actions(r, account_id)

    # -- internals ---------------------------------------------------------------------------------
    async def _ask(self, account_id: str, msg: Message) -> Any:
        ref = await self.manager.ref(account_id)
        try:
            reply = await ref.ask(msg, timeout=self.config.ask_timeout_s)
        except ActorStopped:
            raise AccountFinalized(account_id) from None
        if isinstance(reply, PropRefused):
            raise AccountFinalized(account_id)
        return reply

    async def _control(self, account_id: str, op: AdminOp, admin: str) -> AccountSnapshot:
        if not admin:
            raise ValueError("an admin action needs the admin's name")
        return await self._ask(account_id, PropControl(op=op, admin=admin))

    async def _result(self, account_id: str) -> AccountSnapshot:
        async with self.db.read() as r:
            frozen = await tables.result(r, account_id)
        if frozen is None:
            raise AccountNotFound(account_id)
        return frozen

    async def _exists(self, r: Session, account_id: str) -> None:
        if not await r.fetchval("SELECT 1 FROM prop_accounts WHERE account_id = ?", (account_id,)):
            raise AccountNotFound(account_id)
