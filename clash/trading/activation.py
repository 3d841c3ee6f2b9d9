"""Whether a (clone, prop account) pair may be activated: the clone has a published version, the
account exists, is the clone's, is not finalized, and serves no other clone."""

from __future__ import annotations

from clash.clones import CloneError, ClonesModule
from clash.prop import AccountNotFound, PropModule
from clash.store import Database
from clash.trading.errors import TradingError


async def check_activation(
    clones: ClonesModule, prop: PropModule | None, db: Database, clone_id: int, account_id: str
) -> None:
    """Raises `TradingError` with the reason the pair may not be activated."""
    try:
        await clones.published_version(clone_id)
    except CloneError as exc:
        raise TradingError(exc.code, exc.message) from None
    if prop is None:
        raise TradingError("account_not_found", "the prop module is not running")
    try:
        row = await prop.account(account_id)
    except AccountNotFound:
        raise TradingError("account_not_found", f"no prop account {account_id}") from None
    if row.clone_id != clone_id:
        raise TradingError(
            "account_not_of_clone", f"prop account {account_id} is not one of clone {clone_id}'s"
        )
    if row.finalized_at_ms is not None:
        raise TradingError("account_finalized", f"prop account {account_id} is finalized")
    async with db.read() as r:
        other = await r.fetchval(
            "SELECT clone_id FROM trading_activations WHERE account_id = ? AND clone_id != ?",
            (account_id, clone_id),
        )
    if other is not None:
        raise TradingError(
            "account_in_use", f"prop account {account_id} is activated for clone {other}"
        )
