"""The clones module: its public API for routes and other modules.

Plain async methods over the store (the single writer serialises transactions, so no actor is
needed). Time comes from the runtime clock; the asset registry from an `AssetCatalog`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors import Clock
from clash.clones import basic, moderation, service
from clash.clones.catalog import AssetCatalog, MarketCatalog, sim_catalog
from clash.clones.diff import StrategyDiff
from clash.clones.entitlements import Tier
from clash.clones.graph import Layout, Pipeline
from clash.clones.moderation import (
    ModerationResult,
    Profile,
    ProfileIn,
    PublicProfile,
    QueueEntry,
    Report,
    ReportIn,
)
from clash.clones.service import (
    Clone,
    CloneError,
    ClonePatch,
    EntitlementView,
    ForkResult,
    PipelineView,
    ValidationReport,
    Version,
    VersionRef,
    VersionSummary,
)
from clash.market import MarketModule
from clash.store import Database

if TYPE_CHECKING:
    from clash.runtime import Runtime


class ClonesModule:
    name = "clones"
    package = "clash.clones"

    def __init__(self, db: Database, clock: Clock, catalog: AssetCatalog) -> None:
        self.db = db
        self.clock = clock
        self.catalog = catalog

    @staticmethod
    def register_checks(db: Database) -> None:
        db.register_check("clones", service.check_invariants)

    @classmethod
    async def start(cls, rt: Runtime, *, catalog: AssetCatalog | None = None) -> ClonesModule:
        """Graph validation asks `catalog`, else the market module's registry, else (a boot without
        a market module) the simulator's universe."""
        if catalog is None:
            market = rt.find(MarketModule)
            if market is not None:
                catalog = MarketCatalog(market.asset_specs)
            else:
                catalog = sim_catalog(
                    rt.config.market.sim_seed, rt.config.market.hyperliquid.assets
                )
        return cls(rt.db, rt.clock, catalog)

    def _now(self) -> int:
        return self.clock.now_ms()

    # ------------------------------------------------------------ clones

    async def create_clone(self, owner: str, name: str) -> Clone:
        return await service.create_clone(self.db, self._now(), owner, name)

    async def list_clones(self, owner: str, *, include_archived: bool = False) -> list[Clone]:
        return await service.list_clones(self.db, owner, include_archived=include_archived)

    async def get_clone(self, user: str | None, clone_id: int) -> Clone:
        return await service.get_clone(self.db, user, clone_id)

    async def update_clone(self, user: str, clone_id: int, patch: ClonePatch) -> Clone:
        return await service.update_clone(self.db, self._now(), user, clone_id, patch)

    async def archive_clone(self, user: str, clone_id: int) -> Clone:
        return await service.archive_clone(self.db, self._now(), user, clone_id)

    async def clone_owner(self, clone_id: int) -> str:
        return await service.clone_owner(self.db, clone_id)

    # ------------------------------------------------------------ pipeline (draft)

    async def get_pipeline(self, user: str, clone_id: int) -> PipelineView:
        return await service.get_pipeline(self.db, user, clone_id, await self.catalog.assets())

    async def save_pipeline(
        self, user: str, clone_id: int, pipeline: Pipeline, *, expected_revision: int | None = None
    ) -> PipelineView:
        return await service.save_pipeline(
            self.db,
            self._now(),
            user,
            clone_id,
            pipeline,
            await self.catalog.assets(),
            expected_revision=expected_revision,
        )

    async def save_layout(
        self, user: str, clone_id: int, layout: Layout, *, expected_revision: int | None = None
    ) -> PipelineView:
        return await service.save_layout(
            self.db,
            self._now(),
            user,
            clone_id,
            layout,
            await self.catalog.assets(),
            expected_revision=expected_revision,
        )

    async def validate_pipeline(
        self, user: str, clone_id: int, pipeline: Pipeline
    ) -> ValidationReport:
        return await service.validate_pipeline(
            self.db, user, clone_id, pipeline, await self.catalog.assets()
        )

    async def save_basic(
        self,
        user: str,
        clone_id: int,
        choices: basic.BasicChoices,
        *,
        expected_revision: int | None = None,
    ) -> PipelineView:
        """Basic mode: replace the draft with the graph built from `choices`."""
        try:
            pipeline = basic.build(choices)
        except basic.NotBasic as exc:
            raise CloneError("invalid_choices", str(exc)) from None
        return await self.save_pipeline(
            user, clone_id, pipeline, expected_revision=expected_revision
        )

    async def read_basic(self, user: str, clone_id: int) -> basic.BasicChoices | None:
        """The Basic choices behind the draft, or None once it was edited beyond Basic."""
        return basic.read((await self.get_pipeline(user, clone_id)).pipeline)

    async def reset_draft(self, user: str, clone_id: int, version: int) -> PipelineView:
        return await service.reset_draft(
            self.db, self._now(), user, clone_id, version, await self.catalog.assets()
        )

    # ------------------------------------------------------------ versions, diff, fork

    async def publish(self, user: str, clone_id: int, note: str = "") -> Version:
        return await service.publish(
            self.db, self._now(), user, clone_id, note, await self.catalog.assets()
        )

    async def list_versions(self, user: str | None, clone_id: int) -> list[VersionSummary]:
        return await service.list_versions(self.db, user, clone_id)

    async def get_version(self, user: str | None, clone_id: int, version: int) -> Version:
        return await service.get_version(self.db, user, clone_id, version)

    async def published_version(self, clone_id: int, version: int | None = None) -> Version:
        """For the runtime, dry runs and backtests (no access check): a version, default the latest."""
        return await service.published_version(self.db, clone_id, version)

    async def diff(
        self, user: str | None, clone_id: int, a: VersionRef, b: VersionRef
    ) -> StrategyDiff:
        return await service.diff_refs(self.db, user, clone_id, a, b)

    async def fork(
        self, user: str, clone_id: int, *, version: int | None = None, name: str | None = None
    ) -> ForkResult:
        return await service.fork(
            self.db, self._now(), user, clone_id, version, name, await self.catalog.assets()
        )

    # ------------------------------------------------------------ entitlements

    async def entitlement(self, user: str, clone_id: int) -> EntitlementView:
        return await service.get_entitlement(self.db, user, clone_id, await self.catalog.assets())

    async def grant_tier(
        self, clone_id: int, tier: str, *, source: str, granted_by: str, reason: str = ""
    ) -> EntitlementView:
        """Economy (purchases) and admins set a clone's tier; the newest grant wins."""
        return await service.grant_tier(
            self.db,
            self._now(),
            clone_id,
            tier,
            source=source,
            granted_by=granted_by,
            reason=reason,
            assets=await self.catalog.assets(),
        )

    async def clone_tier(self, clone_id: int) -> Tier:
        return await service.clone_tier(self.db, clone_id)

    # ------------------------------------------------------------ profiles and moderation

    async def put_profile(self, user: str, clone_id: int, body: ProfileIn) -> Profile:
        return await moderation.put_profile(self.db, self._now(), user, clone_id, body)

    async def owner_profile(self, user: str, clone_id: int) -> Profile:
        return await moderation.owner_profile(self.db, user, clone_id)

    async def public_profile(self, clone_id: int) -> PublicProfile:
        return await moderation.public_profile(self.db, clone_id)

    async def list_public_profiles(self, *, after: int = 0, limit: int = 50) -> list[PublicProfile]:
        return await moderation.list_public_profiles(self.db, after=after, limit=limit)

    async def profile_is_public(self, clone_id: int) -> bool:
        """The Arena's admission gate."""
        return await moderation.is_public(self.db, clone_id)

    async def report_profile(self, user: str, clone_id: int, body: ReportIn) -> Report:
        return await moderation.report(self.db, self._now(), user, clone_id, body)

    async def moderation_queue(self, *, limit: int = 50) -> list[QueueEntry]:
        return await moderation.queue(self.db, limit=limit)

    async def retire_profile(self, admin: str, clone_id: int, reason: str) -> ModerationResult:
        return await moderation.retire(self.db, self._now(), admin, clone_id, reason)

    async def reinstate_profile(self, admin: str, clone_id: int, reason: str) -> ModerationResult:
        return await moderation.reinstate(self.db, self._now(), admin, clone_id, reason)
