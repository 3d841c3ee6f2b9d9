"""The prop tables as rows: how an account is loaded, how a batch of writes is persisted (with
group commit, `Writer`), how the read routes page through orders, fills, ledger and equity, and the
`prop.ledger` invariant check.

Rows are array-like Structs in column order, so a SELECT tuple converts straight into one.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec

from clash.prop.fills import Position
from clash.prop.gates import Action, Limits
from clash.prop.messages import (
    AccountRow,
    AccountSnapshot,
    AdminOp,
    SubmitOutcome,
    SubmitResult,
)
from clash.store import Database, GroupCommit, Reader, Session, Transaction

_json = msgspec.json.Encoder(decimal_format="string")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# -- rows ------------------------------------------------------------------------------------------


class SubmittedAction(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    action_id: str
    outcome: SubmitOutcome
    reason_code: str | None
    message: str | None
    action: Action
    result: SubmitResult
    at_ms: int


class OrderRow(msgspec.Struct, frozen=True, array_like=True):
    account_id: str
    order_no: int
    action_id: str | None
    cause: str
    symbol: str
    side: str
    size: Decimal
    ref_px: Decimal
    leverage: int | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    status: str
    at_ms: int


class FillRow(msgspec.Struct, frozen=True, array_like=True):
    account_id: str
    order_no: int
    action_id: str | None
    cause: str
    symbol: str
    side: str
    size: Decimal
    px: Decimal
    ref_px: Decimal
    notional_micro: int
    fee_micro: int
    at_ms: int


class LedgerRow(msgspec.Struct, frozen=True, array_like=True):
    entry_id: int | None
    account_id: str
    kind: str
    amount_micro: int
    symbol: str | None
    ref: str | None
    at_ms: int


class EquityPoint(msgspec.Struct, frozen=True, array_like=True):
    """A `prop_equity_snapshots` row: the equity curve's point at `at_ms`."""

    snapshot_id: int | None
    account_id: str
    at_ms: int
    status: str
    equity_micro: int
    balance_micro: int
    unrealized_micro: int
    peak_equity_micro: int
    drawdown_micro: int
    day_start_equity_micro: int
    fees_paid_micro: int
    funding_paid_micro: int
    gross_exposure_micro: int

    @classmethod
    def of(cls, s: AccountSnapshot) -> EquityPoint:
        return cls(
            None,
            s.account_id,
            s.at_ms,
            s.status,
            s.equity_micro,
            s.balance_micro,
            s.unrealized_micro,
            s.peak_equity_micro,
            s.drawdown_micro,
            s.day_start_equity_micro,
            s.fees_paid_micro,
            s.funding_paid_micro,
            s.gross_exposure_micro,
        )

    def same_values(self, other: EquityPoint | None) -> bool:
        """Equal to `other` apart from the id and the time."""
        return other is not None and (
            msgspec.structs.astuple(self)[3:] == msgspec.structs.astuple(other)[3:]
        )


class StatusRow(msgspec.Struct, frozen=True, array_like=True):
    account_id: str
    before: str
    after: str
    reason: str
    at_ms: int


class AdminRow(msgspec.Struct, frozen=True, array_like=True):
    admin_action_id: int | None
    account_id: str
    admin: str
    op: AdminOp
    status_before: str
    status_after: str
    fills: int
    at_ms: int


class Write(msgspec.Struct, kw_only=True):
    """Everything one account writes in one step; a batch of these commits as one transaction."""

    account_id: str
    insert_account: AccountRow | None = None
    account: AccountRow | None = None
    action: SubmittedAction | None = None
    orders: list[OrderRow] = []
    fills: list[FillRow] = []
    ledger: list[LedgerRow] = []
    upsert_positions: list[Position] = []
    delete_positions: list[str] = []
    status_changes: list[StatusRow] = []
    admin: AdminRow | None = None
    snapshot: EquityPoint | None = None
    result: AccountSnapshot | None = None
    prune_before_ms: int | None = None


# -- SQL -------------------------------------------------------------------------------------------

_ACCOUNT_COLUMNS = (
    "account_id, clone_id, owner_user_id, kind, universe, limits, status, halt_reason, "
    "balance_micro, peak_equity_micro, day_start_equity_micro, day, funding_hour, deposits_micro, "
    "realized_pnl_micro, fees_paid_micro, funding_paid_micro, liquidation_micro, max_drawdown_ppm, "
    "orders_count, actions_filled, actions_rejected, actions_held, created_at_ms, updated_at_ms, "
    "finalized_at_ms"
)
_ACCOUNT_FIELDS = [c.strip() for c in _ACCOUNT_COLUMNS.split(",")]
_INSERT_ACCOUNT = (
    f"INSERT INTO prop_accounts ({_ACCOUNT_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(_ACCOUNT_FIELDS))})"
)
_MUTABLE = _ACCOUNT_FIELDS[6:]
_UPDATE_ACCOUNT = (
    f"UPDATE prop_accounts SET {', '.join(f'{c} = ?' for c in _MUTABLE)} WHERE account_id = ?"
)
_POSITION_COLUMNS = (
    "account_id, symbol, side, size, entry_px, leverage, margin_micro, mark_px, stop_loss, "
    "take_profit, opened_at_ms, updated_at_ms"
)
_UPSERT_POSITION = (
    f"INSERT INTO prop_positions ({_POSITION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, symbol) DO UPDATE SET side = excluded.side, size = excluded.size, "
    "entry_px = excluded.entry_px, leverage = excluded.leverage, "
    "margin_micro = excluded.margin_micro, mark_px = excluded.mark_px, "
    "stop_loss = excluded.stop_loss, take_profit = excluded.take_profit, "
    "opened_at_ms = excluded.opened_at_ms, updated_at_ms = excluded.updated_at_ms"
)
_INSERT_ACTION = (
    "INSERT INTO prop_actions (account_id, action_id, kind, symbol, outcome, reason_code, message,"
    " action, result, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ORDER_COLUMNS = (
    "account_id, order_no, action_id, cause, symbol, side, size, ref_px, leverage, stop_loss, "
    "take_profit, status, at_ms"
)
_FILL_COLUMNS = (
    "account_id, order_no, action_id, cause, symbol, side, size, px, ref_px, notional_micro, "
    "fee_micro, at_ms"
)
_LEDGER_COLUMNS = "entry_id, account_id, kind, amount_micro, symbol, ref, at_ms"
_SNAPSHOT_COLUMNS = (
    "snapshot_id, account_id, at_ms, status, equity_micro, balance_micro, unrealized_micro, "
    "peak_equity_micro, drawdown_micro, day_start_equity_micro, fees_paid_micro, "
    "funding_paid_micro, gross_exposure_micro"
)
_ADMIN_COLUMNS = "admin_action_id, account_id, admin, op, status_before, status_after, fills, at_ms"
_PRUNE_SNAPSHOTS = (
    "DELETE FROM prop_equity_snapshots WHERE account_id = ?1 AND at_ms < ?2 AND snapshot_id NOT IN"
    " (SELECT min(snapshot_id) FROM prop_equity_snapshots WHERE account_id = ?1 AND at_ms < ?2"
    " GROUP BY at_ms / 3600000)"
)


def _insert(table: str, columns: str) -> str:
    n = len(columns.split(","))
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * n)})"


def _account_params(row: AccountRow) -> list[Any]:
    values = [getattr(row, f) for f in _ACCOUNT_FIELDS]
    values[4] = _json.encode(row.universe).decode()
    values[5] = _json.encode(row.limits).decode()
    return values


def _position_params(account_id: str, p: Position) -> tuple[Any, ...]:
    return (
        account_id,
        p.symbol,
        p.side,
        str(p.size),
        str(p.entry_px),
        p.leverage,
        p.margin_micro,
        str(p.mark_px),
        _dec(p.stop_loss),
        _dec(p.take_profit),
        p.opened_at_ms,
        p.updated_at_ms,
    )


def _row_params(row: msgspec.Struct, skip_id: bool = False) -> tuple[Any, ...]:
    values = msgspec.structs.astuple(row)
    if skip_id:
        values = values[1:]
    return tuple(str(v) if isinstance(v, Decimal) else v for v in values)


def _without_id(columns: str) -> str:
    return columns.split(",", 1)[1].strip()


async def persist(tx: Transaction, writes: Sequence[Write]) -> None:
    """Write a batch: each account's rows, table by table, parents before children, in one round trip."""
    statements: list[tuple[str, list[Any]]] = []

    def many(sql: str, params: list[Any]) -> None:
        statements.append((sql, params))

    many(_INSERT_ACCOUNT, [_account_params(w.insert_account) for w in writes if w.insert_account])
    many(
        _UPDATE_ACCOUNT,
        [[*_account_params(w.account)[6:], w.account_id] for w in writes if w.account],
    )
    many(
        _INSERT_ACTION,
        [
            (
                a.account_id,
                a.action_id,
                a.action.kind,
                a.action.symbol,
                a.outcome,
                a.reason_code,
                a.message,
                _json.encode(a.action).decode(),
                _json.encode(a.result).decode(),
                a.at_ms,
            )
            for w in writes
            if (a := w.action) is not None
        ],
    )
    many(_insert("prop_orders", _ORDER_COLUMNS), [_row_params(o) for w in writes for o in w.orders])
    many(_insert("prop_fills", _FILL_COLUMNS), [_row_params(f) for w in writes for f in w.fills])
    many(
        _insert("prop_ledger", _without_id(_LEDGER_COLUMNS)),
        [_row_params(e, skip_id=True) for w in writes for e in w.ledger],
    )
    many(
        "DELETE FROM prop_positions WHERE account_id = ? AND symbol = ?",
        [(w.account_id, s) for w in writes for s in w.delete_positions],
    )
    many(
        _UPSERT_POSITION,
        [_position_params(w.account_id, p) for w in writes for p in w.upsert_positions],
    )
    many(
        "INSERT INTO prop_status_changes (account_id, before, after, reason, at_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        [_row_params(s) for w in writes for s in w.status_changes],
    )
    many(
        _insert("prop_admin_actions", _without_id(_ADMIN_COLUMNS)),
        [_row_params(w.admin, skip_id=True) for w in writes if w.admin],
    )
    many(
        _insert("prop_equity_snapshots", _without_id(_SNAPSHOT_COLUMNS)),
        [_row_params(w.snapshot, skip_id=True) for w in writes if w.snapshot],
    )
    many(
        "INSERT INTO prop_results (account_id, snapshot, at_ms) VALUES (?, ?, ?)",
        [
            (w.account_id, _json.encode(w.result).decode(), w.result.at_ms)
            for w in writes
            if w.result
        ],
    )
    many(
        _PRUNE_SNAPSHOTS,
        [(w.account_id, w.prune_before_ms) for w in writes if w.prune_before_ms is not None],
    )
    await tx.execute_batch(statements)


async def recorded_results(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], SubmitResult]:
    """The stored results of the (account_id, action_id) pairs already in `prop_actions`."""
    found: dict[tuple[str, str], SubmitResult] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        where = " OR ".join(["(account_id = ? AND action_id = ?)"] * len(chunk))
        rows = await session.fetchall(
            f"SELECT account_id, action_id, result FROM prop_actions WHERE {where}",
            [v for key in chunk for v in key],
        )
        for account_id, action_id, result in rows:
            found[(account_id, action_id)] = msgspec.json.decode(result, type=SubmitResult)
    return found


# -- loading ---------------------------------------------------------------------------------------


def _account(row: Sequence[Any]) -> AccountRow:
    values = dict(zip(_ACCOUNT_FIELDS, row, strict=True))
    values["universe"] = msgspec.json.decode(values["universe"], type=list[str])
    values["limits"] = msgspec.json.decode(values["limits"], type=Limits)
    return msgspec.convert(values, AccountRow)


def _position(row: Sequence[Any]) -> Position:
    (_, symbol, side, size, entry_px, leverage, margin, mark_px, sl, tp, opened, updated) = row
    return Position(
        symbol=symbol,
        side=side,
        size=Decimal(size),
        entry_px=Decimal(entry_px),
        leverage=leverage,
        margin_micro=margin,
        mark_px=Decimal(mark_px),
        opened_at_ms=opened,
        updated_at_ms=updated,
        stop_loss=None if sl is None else Decimal(sl),
        take_profit=None if tp is None else Decimal(tp),
    )


async def load_account(r: Session, account_id: str) -> tuple[AccountRow, list[Position]] | None:
    row = await account(r, account_id)
    return None if row is None else (row, await positions(r, account_id))


async def account(r: Session, account_id: str) -> AccountRow | None:
    rows = await r.fetchall(
        f"SELECT {_ACCOUNT_COLUMNS} FROM prop_accounts WHERE account_id = ?", (account_id,)
    )
    return _account(rows[0]) if rows else None


async def open_account_ids(r: Session) -> list[str]:
    rows = await r.fetchall(
        "SELECT account_id FROM prop_accounts WHERE finalized_at_ms IS NULL ORDER BY created_at_ms"
    )
    return [account_id for (account_id,) in rows]


async def accounts_of_clone(r: Session, clone_id: int) -> list[AccountRow]:
    rows = await r.fetchall(
        f"SELECT {_ACCOUNT_COLUMNS} FROM prop_accounts WHERE clone_id = ? ORDER BY created_at_ms",
        (clone_id,),
    )
    return [_account(row) for row in rows]


async def positions(r: Session, account_id: str) -> list[Position]:
    rows = await r.fetchall(
        f"SELECT {_POSITION_COLUMNS} FROM prop_positions WHERE account_id = ? ORDER BY symbol",
        (account_id,),
    )
    return [_position(row) for row in rows]


async def result(r: Session, account_id: str) -> AccountSnapshot | None:
    raw = await r.fetchval("SELECT snapshot FROM prop_results WHERE account_id = ?", (account_id,))
    return None if raw is None else msgspec.json.decode(raw, type=AccountSnapshot)


async def action_result(r: Session, account_id: str, action_id: str) -> SubmitResult | None:
    found = await recorded_results(r, [(account_id, action_id)])
    return found.get((account_id, action_id))


async def _page(
    r: Session,
    table: str,
    columns: str,
    key: str,
    type_: type[Any],
    account_id: str,
    limit: int,
    before: int | None,
) -> list[Any]:
    sql = f"SELECT {columns} FROM {table} WHERE account_id = ?"
    params: list[Any] = [account_id]
    if before is not None:
        sql += f" AND {key} < ?"
        params.append(before)
    sql += f" ORDER BY {key} DESC LIMIT ?"
    params.append(limit)
    return [msgspec.convert(row, type_) for row in await r.fetchall(sql, params)]


async def orders(r: Session, account_id: str, limit: int, before: int | None) -> list[OrderRow]:
    return await _page(
        r, "prop_orders", _ORDER_COLUMNS, "order_no", OrderRow, account_id, limit, before
    )


async def fills(r: Session, account_id: str, limit: int, before: int | None) -> list[FillRow]:
    return await _page(
        r, "prop_fills", _FILL_COLUMNS, "order_no", FillRow, account_id, limit, before
    )


async def ledger(r: Session, account_id: str, limit: int, before: int | None) -> list[LedgerRow]:
    return await _page(
        r, "prop_ledger", _LEDGER_COLUMNS, "entry_id", LedgerRow, account_id, limit, before
    )


async def admin_actions(r: Session, account_id: str) -> list[AdminRow]:
    rows = await r.fetchall(
        f"SELECT {_ADMIN_COLUMNS} FROM prop_admin_actions WHERE account_id = ?"
        " ORDER BY admin_action_id",
        (account_id,),
    )
    return [msgspec.convert(row, AdminRow) for row in rows]


async def equity(r: Session, account_id: str, since_ms: int, limit: int) -> list[EquityPoint]:
    """Snapshots at or after `since_ms`, oldest first; the newest `limit` when there are more."""
    rows = await r.fetchall(
        f"SELECT {_SNAPSHOT_COLUMNS} FROM prop_equity_snapshots WHERE account_id = ? AND at_ms >= ?"
        " ORDER BY at_ms DESC, snapshot_id DESC LIMIT ?",
        (account_id, since_ms, limit),
    )
    return [msgspec.convert(row, EquityPoint) for row in reversed(rows)]


async def last_snapshot(r: Session, account_id: str) -> EquityPoint | None:
    rows = await r.fetchall(
        f"SELECT {_SNAPSHOT_COLUMNS} FROM prop_equity_snapshots WHERE account_id = ?"
        " ORDER BY at_ms DESC, snapshot_id DESC LIMIT 1",
        (account_id,),
    )
    return msgspec.convert(rows[0], EquityPoint) if rows else None


# -- the invariant ---------------------------------------------------------------------------------

_LEDGER_MISMATCH = """
SELECT a.account_id, a.balance_micro, coalesce(l.total, 0),
       a.deposits_micro, coalesce(l.deposits, 0),
       a.realized_pnl_micro, coalesce(l.realized, 0),
       a.fees_paid_micro, coalesce(l.fees, 0),
       a.funding_paid_micro, coalesce(l.funding, 0),
       a.liquidation_micro, coalesce(l.liquidation, 0)
FROM prop_accounts a LEFT JOIN (
    SELECT account_id,
           sum(amount_micro) AS total,
           sum(CASE kind WHEN 'deposit' THEN amount_micro ELSE 0 END) AS deposits,
           sum(CASE kind WHEN 'realized_pnl' THEN amount_micro ELSE 0 END) AS realized,
           -sum(CASE kind WHEN 'fee' THEN amount_micro ELSE 0 END) AS fees,
           -sum(CASE kind WHEN 'funding' THEN amount_micro ELSE 0 END) AS funding,
           sum(CASE kind WHEN 'backstop_liquidation' THEN amount_micro ELSE 0 END) AS liquidation
    FROM prop_ledger GROUP BY account_id
) l USING (account_id)
WHERE a.balance_micro != coalesce(l.total, 0)
   OR a.deposits_micro != coalesce(l.deposits, 0)
   OR a.realized_pnl_micro != coalesce(l.realized, 0)
   OR a.fees_paid_micro != coalesce(l.fees, 0)
   OR a.funding_paid_micro != coalesce(l.funding, 0)
   OR a.liquidation_micro != coalesce(l.liquidation, 0)
"""

_ACTION_ORDERS = """
SELECT a.account_id, a.action_id, a.outcome, count(o.order_no)
FROM prop_actions a LEFT JOIN prop_orders o
  ON o.account_id = a.account_id AND o.action_id = a.action_id
GROUP BY a.account_id, a.action_id
HAVING count(o.order_no) != (CASE a.outcome WHEN 'filled' THEN 1 ELSE 0 END)
"""

_ORDERS_WITHOUT_FILL = """
SELECT o.account_id, o.order_no FROM prop_orders o
LEFT JOIN prop_fills f ON f.account_id = o.account_id AND f.order_no = o.order_no
WHERE f.order_no IS NULL
"""


async def check_ledger(r: Reader) -> list[str]:
    """Balances and per-kind totals equal their ledger rows; positions equal the net of their
    fills; every filled action has one order and every order one fill; a liquidated account holds
    nothing."""
    problems: list[str] = []
    names = ("balance", "deposits", "realized_pnl", "fees_paid", "funding_paid", "liquidation")
    for row in await r.fetchall(_LEDGER_MISMATCH):
        account_id, values = row[0], row[1:]
        for i, name in enumerate(names):
            stored, summed = values[2 * i], values[2 * i + 1]
            if stored != summed:
                problems.append(
                    f"account {account_id}: {name} is {stored} but its ledger rows sum to {summed}"
                )
    for account_id, action_id, outcome, n in await r.fetchall(_ACTION_ORDERS):
        problems.append(f"account {account_id}: {outcome} action {action_id} has {n} orders")
    for account_id, order_no in await r.fetchall(_ORDERS_WITHOUT_FILL):
        problems.append(f"account {account_id}: order {order_no} has no fill")
    problems += await _check_positions(r)
    return problems


async def _check_positions(r: Reader) -> list[str]:
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for account_id, symbol, side, size in await r.fetchall(
        "SELECT account_id, symbol, side, size FROM prop_fills"
    ):
        net[(account_id, symbol)] += Decimal(size) if side == "buy" else -Decimal(size)
    held: dict[tuple[str, str], Decimal] = {}
    problems: list[str] = []
    for account_id, symbol, side, size, status in await r.fetchall(
        "SELECT p.account_id, p.symbol, p.side, p.size, a.status FROM prop_positions p"
        " JOIN prop_accounts a USING (account_id)"
    ):
        if Decimal(size) <= 0:
            problems.append(f"account {account_id}: {symbol} position has size {size}")
        if status == "liquidated":
            problems.append(f"account {account_id} is liquidated but holds {symbol}")
        held[(account_id, symbol)] = Decimal(size) if side == "long" else -Decimal(size)
    for key in sorted(set(net) | set(held)):
        if net.get(key, Decimal(0)) != held.get(key, Decimal(0)):
            problems.append(
                f"account {key[0]}: {key[1]} position is {held.get(key, 0)} but its fills net"
                f" to {net.get(key, 0)}"
            )
    return problems


# -- group commit ----------------------------------------------------------------------------------


def _action_key(write: Write) -> tuple[str, str] | None:
    return None if write.action is None else (write.action.account_id, write.action.action_id)


class Writer:
    """Group commit for the account actors (`clash.store.GroupCommit`). Each write lands whole in
    one transaction, and a write whose action id is already recorded is skipped; `write` then
    returns the recorded result instead of None.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._group: GroupCommit[Write, SubmitResult | None] = GroupCommit(self._commit)

    @property
    def transactions(self) -> int:
        return self._group.batches

    async def write(self, write: Write) -> SubmitResult | None:
        return await self._group.submit(write)

    async def _commit(self, writes: Sequence[Write]) -> list[SubmitResult | None]:
        recorded: dict[tuple[str, str], SubmitResult] = {}
        try:
            async with self._db.transaction() as tx:
                await persist(tx, writes)
        except sqlite3.IntegrityError:
            # An action id is already recorded (a resubmission): write only what is new. Rare, so
            # the usual step skips this look-up and costs one round trip fewer.
            keys = [key for w in writes if (key := _action_key(w)) is not None]
            async with self._db.transaction() as tx:
                recorded = await recorded_results(tx, keys) if keys else {}
                await persist(tx, [w for w in writes if _action_key(w) not in recorded])
        return [recorded.get(key) if (key := _action_key(w)) is not None else None for w in writes]
