"""The running product: one supervised actor system, one database, the modules started in order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from actors import Clock, LiveClock, System
from clash.config import Config, Secrets, validate
from clash.store import Database, discover_migrations

log = logging.getLogger(__name__)


class Module(Protocol):
    """A product module as boot sees it: the module's class itself (`PropModule`), or the class
    with options for its start (`using(PropModule, prices=...)`)."""

    @property
    def name(self) -> str: ...

    @property
    def package(self) -> str:
        """Where its migrations live."""
        ...

    def register_checks(self, db: Database) -> None:
        """Register the module's invariant checks (`clash db check` runs them too)."""

    async def start(self, rt: Runtime) -> Any:
        """Spawn the module's actors and return its public API object, constructed complete."""


M = TypeVar("M")


class Using:
    """A module class with keyword options for its `start` classmethod."""

    def __init__(self, kind: Module, options: dict[str, Any]) -> None:
        self.kind = kind
        self.options = options

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def package(self) -> str:
        return self.kind.package

    def register_checks(self, db: Database) -> None:
        self.kind.register_checks(db)

    async def start(self, rt: Runtime) -> Any:
        return await self.kind.start(rt, **self.options)


def using(kind: Module, **options: Any) -> Using:
    """`kind` started with `options` (tests inject fakes: `using(TradingModule, decider=...)`)."""
    return Using(kind, options)


class Runtime:
    def __init__(
        self,
        config: Config,
        secrets: Secrets,
        clock: Clock,
        system: System,
        db: Database,
        data_dir: Path,
    ) -> None:
        self.config = config
        self.secrets = secrets
        self.clock = clock
        self.system = system
        self.db = db
        self.data_dir = data_dir
        self.artifacts_dir = data_dir / "artifacts"
        self.modules: dict[str, object] = {}
        """Each started module's public API object, by module name."""

    def module(self, kind: type[M]) -> M:
        """The started module of class `kind` (`rt.module(PropModule)`); LookupError if this boot
        lacks it."""
        found = self.find(kind)
        if found is None:
            raise LookupError(f"this boot has no {kind.__name__}")
        return found

    def find(self, kind: type[M]) -> M | None:
        """The started module of class `kind`, or None for a boot without it (tests boot subsets)."""
        return next((m for m in self.modules.values() if isinstance(m, kind)), None)


def product_modules() -> list[Module]:
    from clash.modules import MODULES

    return list(MODULES)


def register_checks(db: Database, modules: Sequence[Module]) -> None:
    for module in modules:
        module.register_checks(db)


async def open_database(config: Config, clock: Clock, modules: Sequence[Module]) -> Database:
    data_dir = Path(config.system.data_dir)
    db = await Database.open(data_dir / "clash.db")
    try:
        await db.migrate(discover_migrations([m.package for m in modules]), now_ms=clock.now_ms())
    except BaseException:
        await db.close()
        raise
    return db


@asynccontextmanager
async def boot(
    config: Config,
    secrets: Secrets,
    clock: Clock | None = None,
    modules: Sequence[Module] | None = None,
) -> AsyncIterator[Runtime]:
    """Open the store, migrate it, start every module's actors; stop them all on exit."""
    from clash.ops import DeadLetterTable

    validate(config, secrets)
    clock = clock or LiveClock()
    modules = list(modules) if modules is not None else product_modules()
    data_dir = Path(config.system.data_dir)
    db = await open_database(config, clock, modules)
    register_checks(db, modules)
    try:
        system = System(
            clock,
            dead_letters=DeadLetterTable(db),
            heartbeat_interval=config.system.heartbeat_interval_s or None,
        )
        async with system:
            rt = Runtime(config, secrets, clock, system, db, data_dir)
            rt.artifacts_dir.mkdir(parents=True, exist_ok=True)
            for module in modules:
                rt.modules[module.name] = await module.start(rt)
            names = [m.name for m in modules]
            context = {"modules": names, "db": str(db.path)}
            log.info("modules started: %s", ", ".join(names), extra=context)
            yield rt
            stopping = clock.now_ms()
            await system.shutdown(config.system.shutdown_timeout_s)
            took = clock.now_ms() - stopping
            log.info("actors stopped in %d ms", took, extra={"shutdown_ms": took})
    finally:
        await db.close()
