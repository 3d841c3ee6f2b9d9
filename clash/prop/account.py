"""The prop account actor: a thin shell around the pure `AccountBook`.

It loads its rows into a book on start, runs every message through a pure book method, writes the
resulting `Outcome` whole in one transaction, and only then adopts the new book. One actor per open
account serialises everything that happens to the account.

A mark that moves no cash (no fill, no ledger row, no status change) is written with the account's
next equity snapshot, at most `snapshot_interval_s` apart; until then its marks and peak live in
memory only. Everything that moves cash is written before the actor answers or goes on.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from actors import Actor, Timer, Unhandled
from clash.prop import tables
from clash.prop.book import HOUR_MS, AccountBook, Outcome
from clash.prop.config import PropConfig
from clash.prop.fills import AssetSpec
from clash.prop.gates import Action
from clash.prop.messages import (
    AccountSnapshot,
    AdminOp,
    PropControl,
    PropFinalize,
    PropFunding,
    PropMark,
    PropRefused,
    PropRetention,
    PropSnapshot,
    PropSubmit,
    SubmitOutcome,
    SubmitResult,
)
from clash.prop.prices import PriceSource, PriceUnavailable
from clash.prop.tables import (
    AdminRow,
    EquityPoint,
    FillRow,
    LedgerRow,
    OrderRow,
    StatusRow,
    SubmittedAction,
    Write,
)
from clash.store import Database

log = logging.getLogger(__name__)


class AccountDeps:
    """What every account actor shares."""

    def __init__(
        self, db: Database, writer: tables.Writer, prices: PriceSource, config: PropConfig
    ) -> None:
        self.db = db
        self.writer = writer
        self.prices = prices
        self.config = config


def phase(account_id: str) -> float:
    """A stable fraction in [0, 1) that spreads the accounts' timers over their interval."""
    return zlib.crc32(account_id.encode()) / 2**32


def _next_boundary(now: float, interval: float) -> float:
    return (math.floor(now / interval) + 1) * interval


def drawdown_ppm(book: AccountBook) -> int:
    """Peak-to-now drop in millionths of the peak, rounded up."""
    peak, equity = book.peak_equity_micro, book.equity_micro()
    if peak <= 0 or equity >= peak:
        return 0
    return -((equity - peak) * 1_000_000 // peak)


class PropAccount(Actor):
    def __init__(self, account_id: str, deps: AccountDeps) -> None:
        self.account_id = account_id
        self.deps = deps
        self.specs: dict[str, AssetSpec] = {}
        self.timers: list[Timer] = []
        self._funding_retry: Timer | None = None

    # -- life --------------------------------------------------------------------------------------
    async def on_start(self) -> None:
        async with self.deps.db.read() as r:
            loaded = await tables.load_account(r, self.account_id)
            self.last_snapshot = await tables.last_snapshot(r, self.account_id)
        if loaded is None:
            raise LookupError(f"no prop account {self.account_id}")
        self.row, positions = loaded
        self.book = self.row.book(positions)
        self.saved_positions = self.book.positions
        self.max_drawdown_ppm = self.row.max_drawdown_ppm
        self.finalized = self.row.finalized_at_ms is not None
        if self.finalized:
            return
        await self._universe_specs()
        cfg, now, offset = self.deps.config, self.clock.now(), phase(self.account_id)
        # A mark writes its snapshot once the next mark would be past the snapshot interval.
        self._snapshot_gap_ms = (cfg.snapshot_interval_s - cfg.mark_interval_s) * 1000
        self.timers = [
            self.every(cfg.mark_interval_s, PropMark(), first=now + offset * cfg.mark_interval_s),
            self.every(
                cfg.funding_interval_s,
                PropFunding(),
                first=_next_boundary(now, cfg.funding_interval_s) + offset * cfg.mark_interval_s,
            ),
            self.every(
                cfg.retention_interval_s,
                PropRetention(),
                first=_next_boundary(now, cfg.retention_interval_s)
                + (0.5 + offset / 2) * cfg.retention_interval_s,
            ),
        ]

    async def receive(self, msg: Any) -> Any:
        match msg:
            case PropSubmit(action=action):
                return await self._submit(action)
            case PropMark():
                await self._mark()
            case PropFunding():
                await self._funding()
            case PropRetention():
                await self._retention()
            case PropSnapshot():
                return self.view(self.book, self.clock.now_ms())
            case PropControl(op=op, admin=admin):
                return await self._control(op, admin)
            case PropFinalize():
                return await self._finalize()
            case _:
                raise Unhandled(msg)
        return None

    # -- messages ----------------------------------------------------------------------------------
    async def _submit(self, action: Action) -> SubmitResult | PropRefused:
        if self.finalized:
            return self._refused()
        now = self.clock.now_ms()
        marks = await self._marks({action.symbol, *self.book.positions}) or {}
        assets = await self._universe_specs()
        outcome = self.book.submit(action, assets, marks, now, self.row.limits)
        fill = outcome.fills[0] if outcome.fills else None
        rejection = outcome.rejection
        kind: SubmitOutcome = "rejected" if rejection else "filled" if fill else "held"
        result = SubmitResult(
            account_id=self.account_id,
            action_id=action.action_id,
            outcome=kind,
            reason_code=rejection.code if rejection else None,
            message=rejection.message if rejection else None,
            fill=fill,
            order_no=self.row.orders_count + 1 if fill else None,
            balance_micro=outcome.book.balance_micro,
            equity_micro=outcome.book.equity_micro(marks),
            at_ms=now,
        )
        counter = f"actions_{kind}"
        write = self._write(
            outcome,
            now,
            action=SubmittedAction(
                account_id=self.account_id,
                action_id=action.action_id,
                outcome=kind,
                reason_code=result.reason_code,
                message=result.message,
                action=action,
                result=result,
                at_ms=now,
            ),
            **{counter: getattr(self.row, counter) + 1},
        )
        recorded = await self.deps.writer.write(write)
        if recorded is not None:
            return msgspec.structs.replace(recorded, replayed=True)
        self._adopt(write, outcome.book)
        return result

    async def _mark(self) -> None:
        if self.finalized:
            return
        marks = await self._marks(self.book.positions)
        if marks is None:
            return
        now = self.clock.now_ms()
        outcome = self.book.mark(await self._held_specs(), marks, now, self.row.limits)
        book = outcome.book
        self.max_drawdown_ppm = max(self.max_drawdown_ppm, drawdown_ppm(book))
        moved_cash = bool(outcome.fills or outcome.ledger or outcome.status_changes)
        if not moved_cash:
            last = self.last_snapshot
            due = last is None or now - last.at_ms > self._snapshot_gap_ms
            unchanged = not book.positions and self._point(book, now).same_values(
                self.last_snapshot
            )
            if not due or unchanged:
                self.book = book
                return
        write = self._write(outcome, now, snapshot=self._point(book, now))
        await self.deps.writer.write(write)
        self._adopt(write, book)

    async def _funding(self) -> None:
        if self.finalized:
            return
        now = self.clock.now_ms()
        symbols = sorted(self.book.positions)
        try:
            rates = await self.deps.prices.funding(symbols) if symbols else {}
        except PriceUnavailable:
            if self._funding_retry is None or not self._funding_retry.active:
                self._funding_retry = self.after(self.deps.config.mark_interval_s, PropFunding())
            return
        outcome = self.book.apply_funding(
            {s: r.rate for s, r in rates.items()},
            {s: r.oracle_px for s, r in rates.items() if r.oracle_px is not None},
            now,
        )
        if not outcome.ledger:
            self.book = outcome.book
            return
        write = self._write(outcome, now)
        await self.deps.writer.write(write)
        self._adopt(write, outcome.book)

    async def _retention(self) -> None:
        now = self.clock.now_ms()
        cutoff = (now - round(self.deps.config.dense_snapshots_s * 1000)) // HOUR_MS * HOUR_MS
        await self.deps.writer.write(Write(account_id=self.account_id, prune_before_ms=cutoff))

    async def _control(self, op: AdminOp, admin: str) -> AccountSnapshot | PropRefused:
        if self.finalized:
            return self._refused()
        now = self.clock.now_ms()
        book, limits = self.book, self.row.limits
        match op:
            case "pause":
                outcome = book.pause(now)
            case "resume":
                outcome = book.resume(now)
            case "flatten" | "kill":
                marks = await self._marks(book.positions) or {}
                specs = await self._held_specs()
                if op == "flatten":
                    outcome = book.flatten(specs, marks, now, limits, "admin")
                else:
                    outcome = book.kill(specs, marks, now, limits)
        write = self._write(
            outcome,
            now,
            admin=AdminRow(
                admin_action_id=None,
                account_id=self.account_id,
                admin=admin,
                op=op,
                status_before=book.status,
                status_after=outcome.book.status,
                fills=len(outcome.fills),
                at_ms=now,
            ),
            snapshot=self._point(outcome.book, now) if outcome.fills else None,
        )
        await self.deps.writer.write(write)
        log.info(
            "admin %s by %s on account %s",
            op,
            admin,
            self.account_id,
            extra={
                "account_id": self.account_id,
                "admin": admin,
                "op": op,
                "fills": len(outcome.fills),
            },
        )
        self._adopt(write, outcome.book)
        return self.view(self.book, now)

    async def _finalize(self) -> AccountSnapshot:
        if self.finalized:
            async with self.deps.db.read() as r:
                frozen = await tables.result(r, self.account_id)
            assert frozen is not None
            return frozen
        now = self.clock.now_ms()
        marks = await self._marks(self.book.positions)
        if marks is None:
            outcome = Outcome(book=self.book)
        else:
            outcome = self.book.mark(await self._held_specs(), marks, now, self.row.limits)
        self.max_drawdown_ppm = max(self.max_drawdown_ppm, drawdown_ppm(outcome.book))
        frozen = self.view(outcome.book, now, finalized_at_ms=now)
        write = self._write(
            outcome,
            now,
            snapshot=self._point(outcome.book, now),
            result=frozen,
            finalized_at_ms=now,
        )
        await self.deps.writer.write(write)
        self._adopt(write, outcome.book)
        self.finalized = True
        for timer in self.timers:
            timer.cancel()
        return frozen

    # -- helpers -----------------------------------------------------------------------------------
    def _write(
        self,
        outcome: Outcome,
        now: int,
        *,
        action: SubmittedAction | None = None,
        admin: AdminRow | None = None,
        snapshot: EquityPoint | None = None,
        result: AccountSnapshot | None = None,
        **row_changes: Any,
    ) -> Write:
        """The rows of one step: `outcome` against the current (committed) book and row."""
        account_id, first_order = self.account_id, self.row.orders_count + 1
        orders, fills = [], []
        for order_no, fill in enumerate(outcome.fills, first_order):
            order = outcome.order if fill.cause == "action" else None
            orders.append(
                OrderRow(
                    account_id,
                    order_no,
                    fill.action_id,
                    fill.cause,
                    fill.symbol,
                    fill.side,
                    order.size if order else fill.size,
                    order.ref_px if order else fill.ref_px,
                    order.leverage if order else None,
                    order.stop_loss if order else None,
                    order.take_profit if order else None,
                    "filled",
                    fill.at_ms,
                )
            )
            fills.append(
                FillRow(
                    account_id,
                    order_no,
                    fill.action_id,
                    fill.cause,
                    fill.symbol,
                    fill.side,
                    fill.size,
                    fill.px,
                    fill.ref_px,
                    fill.notional_micro,
                    fill.fee_micro,
                    fill.at_ms,
                )
            )
        before, after = self.saved_positions, outcome.book.positions
        return Write(
            account_id=account_id,
            account=self.row.with_book(
                outcome.book,
                orders_count=self.row.orders_count + len(fills),
                max_drawdown_ppm=self.max_drawdown_ppm,
                **row_changes,
            ),
            action=action,
            orders=orders,
            fills=fills,
            ledger=[
                LedgerRow(None, account_id, e.kind, e.amount_micro, e.symbol, e.ref, e.at_ms)
                for e in outcome.ledger
            ],
            upsert_positions=[p for s, p in sorted(after.items()) if before.get(s) != p],
            delete_positions=[s for s in sorted(before) if s not in after],
            status_changes=[
                StatusRow(account_id, c.before, c.after, c.reason, c.at_ms)
                for c in outcome.status_changes
            ],
            admin=admin,
            snapshot=snapshot,
            result=result,
        )

    def _point(self, book: AccountBook, at_ms: int) -> EquityPoint:
        return EquityPoint.of(AccountSnapshot.of(self.row, book, at_ms))

    def _adopt(self, write: Write, book: AccountBook) -> None:
        """The write is committed: make it the actor's state."""
        assert write.account is not None
        if book.status != self.book.status:
            log.warning(
                "account %s: %s -> %s",
                self.account_id,
                self.book.status,
                book.status,
                extra={
                    "account_id": self.account_id,
                    "clone_id": self.row.clone_id,
                    "status": book.status,
                    "halt_reason": book.halt_reason,
                },
            )
        self.row, self.book, self.saved_positions = write.account, book, book.positions
        if write.snapshot is not None:
            self.last_snapshot = write.snapshot

    async def _marks(self, symbols: Iterable[str]) -> dict[str, Decimal] | None:
        """Latest prices of `symbols`; None while the source is down."""
        wanted = sorted(symbols)
        if not wanted:
            return {}
        try:
            return await self.deps.prices.marks(wanted)
        except PriceUnavailable:
            return None

    async def _universe_specs(self) -> dict[str, AssetSpec]:
        """Specs of the account's universe, fresh when the source answers, else the last known."""
        try:
            fresh = await self.deps.prices.assets(self.row.universe)
        except PriceUnavailable:
            return {s: self.specs[s] for s in self.row.universe if s in self.specs}
        self.specs.update(fresh)
        return fresh

    async def _held_specs(self) -> dict[str, AssetSpec]:
        missing = [s for s in self.book.positions if s not in self.specs]
        if missing:
            try:
                self.specs.update(await self.deps.prices.assets(missing))
            except PriceUnavailable:
                pass
        return self.specs

    def _refused(self) -> PropRefused:
        return PropRefused(
            account_id=self.account_id,
            code="account_finalized",
            message=f"prop account {self.account_id} is finalized",
        )

    def view(
        self, book: AccountBook, at_ms: int, finalized_at_ms: int | None = None
    ) -> AccountSnapshot:
        row = self.row
        if finalized_at_ms is not None:
            row = msgspec.structs.replace(row, finalized_at_ms=finalized_at_ms)
        return AccountSnapshot.of(
            row.with_book(book, max_drawdown_ppm=max(self.max_drawdown_ppm, drawdown_ppm(book))),
            book,
            at_ms,
        )
