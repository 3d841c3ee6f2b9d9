"""The demo clone: created once per database (owner `demo`, a sandbox account) and activated, so a
fresh `clash run` shows decisions and fills within minutes. Its settings: `[trading.demo]`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec

from actors import Actor, Message, Unhandled
from clash.clones import (
    ASSETS_ID,
    HYPERLIQUID_CHANNELS,
    BasicChoices,
    DataStreamConfig,
    DataStreamNode,
    Edge,
    Pipeline,
    Position,
    TradingPromptNode,
    build,
    stream_id,
)
from clash.trading.config import DemoSettings
from clash.trading.records import Activation

if TYPE_CHECKING:
    from clash.trading.module import TradingModule

log = logging.getLogger(__name__)

DEMO_OWNER = "demo"


def check_settings(settings: DemoSettings) -> None:
    """Refuse channels the graph does not know at boot, not at every setup retry."""
    unknown = [c for c in settings.channels if c not in HYPERLIQUID_CHANNELS]
    if unknown:
        raise ValueError(
            f"trading.demo.channels: unknown Hyperliquid channel(s) {unknown}; known: "
            f"{', '.join(HYPERLIQUID_CHANNELS)}"
        )


def demo_pipeline(settings: DemoSettings, assets: list[str]) -> Pipeline:
    """The Basic graph of the assets and prompt, reading the settings' Hyperliquid channels (same
    asset, at the settings' profile), its trading prompt at the settings' cadence."""
    basic = build(BasicChoices(assets=assets, profile=settings.profile, prompt=settings.prompt))
    streams = [
        DataStreamNode(
            id=stream_id("hyperliquid", channel),
            position=Position(x=0, y=i * 140),
            config=DataStreamConfig(
                source="hyperliquid", channel=channel, profile=settings.profile
            ),
        )
        for i, channel in enumerate(settings.channels)
    ]
    rest = [
        _at_cadence(n, settings.cadence_s) if isinstance(n, TradingPromptNode) else n
        for n in basic.nodes
        if not isinstance(n, DataStreamNode)
    ]
    edges = [Edge(source=s.id, target=ASSETS_ID) for s in streams] + [
        e for e in basic.edges if e.target != ASSETS_ID
    ]
    return msgspec.structs.replace(basic, nodes=[*streams, *rest], edges=edges)


def _at_cadence(node: TradingPromptNode, cadence_s: int) -> TradingPromptNode:
    return msgspec.structs.replace(
        node, config=msgspec.structs.replace(node.config, decision_cadence_sec=cadence_s)
    )


async def ensure_demo(module: TradingModule, settings: DemoSettings) -> Activation | None:
    """Create, publish and activate the demo clone unless the database already has one."""
    async with module.db.read() as r:
        if await r.fetchval("SELECT 1 FROM trading_activations WHERE demo = 1"):
            return None
    listed = module.listed
    wanted = [s for s in settings.assets if s in listed]
    if not wanted:
        raise ValueError(
            f"none of trading.demo.assets {settings.assets} is a market asset ({listed})"
        )
    clones, prop = module.clones, module.prop
    if prop is None:
        raise ValueError("the demo clone needs the prop module")
    registry = await module.catalog.assets()
    if missing := [s for s in wanted if s not in registry]:
        raise RegistryNotReady(f"{', '.join(missing)} not in the asset registry yet")
    owned = await clones.list_clones(DEMO_OWNER)
    clone = owned[0] if owned else await clones.create_clone(DEMO_OWNER, settings.name)
    if not clone.latest_version:
        await clones.save_pipeline(DEMO_OWNER, clone.id, demo_pipeline(settings, wanted))
        await clones.publish(DEMO_OWNER, clone.id, "demo")
    accounts = [a for a in await prop.accounts_of_clone(clone.id) if a.finalized_at_ms is None]
    account = (
        accounts[0].account_id
        if accounts
        else await prop.open_account(clone.id, "sandbox", universe=wanted, owner_user_id=DEMO_OWNER)
    )
    activation = await module.activate(clone.id, account, demo=True)
    log.info("demo clone activated", extra={"clone_id": clone.id, "account_id": account})
    return activation


class RegistryNotReady(Exception):
    """The market module has not loaded the demo's assets yet (it does just after boot)."""


class DemoTry(Message, frozen=True):
    """Timer: try to set up the demo clone (the registry may not have its assets yet)."""


class DemoSetup(Actor):
    RETRY_S = 10.0

    def __init__(self, module: TradingModule, settings: DemoSettings) -> None:
        self.module = module
        self.settings = settings
        self.done = False

    async def on_start(self) -> None:
        self.after(0, DemoTry())

    async def receive(self, msg: Any) -> Any:
        if not isinstance(msg, DemoTry):
            raise Unhandled(msg)
        if not self.done:
            try:
                await ensure_demo(self.module, self.settings)
                self.done = True
            except RegistryNotReady as exc:  # normal just after boot: wait for the registry
                log.info("demo clone waits: %s; retrying in %gs", exc, self.RETRY_S)
                self.after(self.RETRY_S, DemoTry())
            except Exception as exc:
                log.warning("demo clone not set up yet: %r; retrying in %gs", exc, self.RETRY_S)
                self.after(self.RETRY_S, DemoTry())
        return None
