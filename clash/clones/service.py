"""Clones, drafts, versions, forks and tier grants: async functions over the store.

Every write reads what it checks inside its own transaction (the store's single writer
serialises them), so an archive cannot slip between an ownership check and a save. Errors are
`CloneError`s with a machine-readable code; the HTTP layer maps codes to statuses.

Access: the owner reads and writes everything; others read a clone and its published versions
(and may fork them) only when the owner made the strategy public. Drafts are the owner's alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from clash.clones import entitlements
from clash.clones.catalog import CatalogAsset
from clash.clones.diff import Snapshot, StrategyDiff, diff
from clash.clones.entitlements import (
    DEFAULT_MODEL_STRENGTH,
    DEFAULT_TIER,
    ModelStrength,
    Tier,
    TierId,
)
from clash.clones.graph import (
    EMPTY,
    Layout,
    Pipeline,
    Problem,
    TradingPromptNode,
    active_assets,
    decode_stored,
    encode_graph,
    encode_layout,
    errors,
    validate,
)
from clash.store import Database, Reader, Session, Transaction

Name = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"\S")]
Note = Annotated[str, Meta(max_length=500)]


class CloneError(Exception):
    def __init__(self, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def _not_found(clone_id: int) -> CloneError:
    return CloneError("clone_not_found", f"no clone {clone_id}")


# ---------------------------------------------------------------- views


class SourceRef(msgspec.Struct, frozen=True):
    clone_id: int
    version: int | None


class Clone(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    owner_id: str
    name: str
    status: str
    strategy_public: bool
    tier: TierId
    model_strength: str
    latest_version: int
    draft_revision: int
    forked_from: SourceRef | None
    created_at_ms: int
    updated_at_ms: int
    archived_at_ms: int | None


class PipelineView(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    revision: int
    base: SourceRef | None
    """The version this draft was edited from (another clone's after a fork)."""
    model_strength: str
    saved_by: str
    saved_at_ms: int
    pipeline: Pipeline
    active_assets: list[str]
    problems: list[Problem]


class ValidationReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    tier: TierId
    active_assets: list[str]
    problems: list[Problem]


class VersionSummary(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    version: int
    parent: SourceRef | None
    parent_hash: str
    hash: str
    model_strength: str
    note: str
    published_by: str
    published_at_ms: int


class Version(VersionSummary, frozen=True, kw_only=True):
    pipeline: Pipeline


class EntitlementView(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    tier: Tier
    source: str
    reason: str
    granted_by: str
    granted_at_ms: int
    active_assets: list[str]
    problems: list[Problem]
    """The draft against this tier: non-empty after a downgrade, until the owner trims it."""


class ForkResult(msgspec.Struct, frozen=True, kw_only=True):
    clone: Clone
    problems: list[Problem]
    """The copied draft against the fork's own tier; a save or publish refuses its errors."""


class ClonePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    strategy_public: bool | UnsetType = UNSET
    model_strength: ModelStrength | UnsetType = UNSET


# ---------------------------------------------------------------- rows

_CLONE_COLS = (
    "c.id, c.owner_id, c.name, c.status, c.strategy_public, c.forked_from_clone_id, c.forked_from_version,"
    " c.latest_version, c.created_at_ms, c.updated_at_ms, c.archived_at_ms, d.revision, d.model_strength,"
    " (SELECT g.tier FROM clone_entitlement_grants g WHERE g.clone_id = c.id ORDER BY g.id DESC LIMIT 1)"
)
_CLONE_FROM = "FROM clones c JOIN clone_drafts d ON d.clone_id = c.id"


def _clone(row: tuple[Any, ...]) -> Clone:
    (
        cid,
        owner,
        name,
        status,
        public,
        src,
        src_version,
        latest,
        created,
        updated,
        archived,
        revision,
        strength,
        tier,
    ) = row
    return Clone(
        id=cid,
        owner_id=owner,
        name=name,
        status=status,
        strategy_public=bool(public),
        tier=tier,
        model_strength=strength,
        latest_version=latest,
        draft_revision=revision,
        forked_from=SourceRef(src, src_version) if src is not None else None,
        created_at_ms=created,
        updated_at_ms=updated,
        archived_at_ms=archived,
    )


async def load_clone(s: Session, clone_id: int) -> Clone:
    row = await s.fetchone(f"SELECT {_CLONE_COLS} {_CLONE_FROM} WHERE c.id = ?", (clone_id,))
    if row is None:
        raise _not_found(clone_id)
    return _clone(row)


def _readable(c: Clone, user: str | None) -> Clone:
    if c.owner_id != user and not c.strategy_public:
        raise CloneError(
            "not_owner", f"clone {c.id} belongs to someone else and its strategy is private"
        )
    return c


def require_owner(c: Clone, user: str) -> Clone:
    if c.owner_id != user:
        raise CloneError("not_owner", f"only the owner of clone {c.id} can do this")
    return c


def require_writable(c: Clone, user: str) -> Clone:
    require_owner(c, user)
    if c.status == "archived":
        raise CloneError("clone_archived", f"clone {c.id} is archived")
    return c


async def _owned_active(tx: Transaction, clone_id: int, user: str) -> Clone:
    return require_writable(await load_clone(tx, clone_id), user)


class _Draft(msgspec.Struct, frozen=True):
    revision: int
    base_clone_id: int | None
    base_version: int | None
    graph: str
    layout: str
    model_strength: str
    saved_by: str
    saved_at_ms: int

    @property
    def pipeline(self) -> Pipeline:
        return decode_stored(self.graph, self.layout)

    @property
    def base(self) -> SourceRef | None:
        return (
            SourceRef(self.base_clone_id, self.base_version)
            if self.base_clone_id is not None
            else None
        )


async def _draft(s: Session, clone_id: int) -> _Draft:
    row = await s.fetchone(
        "SELECT revision, base_clone_id, base_version, graph, layout, model_strength, saved_by, saved_at_ms"
        " FROM clone_drafts WHERE clone_id = ?",
        (clone_id,),
    )
    assert row is not None, f"clone {clone_id} has no draft"
    return _Draft(*row)


_VERSION_COLS = (
    "clone_id, version, parent_clone_id, parent_version, parent_hash, hash, model_strength, note,"
    " published_by, published_at_ms, graph, layout"
)


def _version(row: tuple[Any, ...], with_pipeline: bool = True) -> VersionSummary:
    (cid, n, pcid, pversion, phash, h, strength, note, by, at, graph, layout) = row
    fields: dict[str, Any] = dict(
        clone_id=cid,
        version=n,
        parent=SourceRef(pcid, pversion) if pcid is not None else None,
        parent_hash=phash,
        hash=h,
        model_strength=strength,
        note=note,
        published_by=by,
        published_at_ms=at,
    )
    if with_pipeline:
        return Version(**fields, pipeline=decode_stored(graph, layout))
    return VersionSummary(**fields)


async def _load_version(s: Session, clone_id: int, version: int) -> Version:
    row = await s.fetchone(
        f"SELECT {_VERSION_COLS} FROM clone_versions WHERE clone_id = ? AND version = ?",
        (clone_id, version),
    )
    if row is None:
        raise CloneError("version_not_found", f"clone {clone_id} has no version {version}")
    v = _version(row)
    assert isinstance(v, Version)
    return v


async def _tier(s: Session, clone_id: int) -> Tier:
    tier_id = await s.fetchval(
        "SELECT tier FROM clone_entitlement_grants WHERE clone_id = ? ORDER BY id DESC LIMIT 1",
        (clone_id,),
    )
    return entitlements.tier(tier_id)


def content_hash(parent_hash: str, graph: str, layout: str, model_strength: str) -> str:
    """The provenance chain: a version's hash covers its content and its parent's hash."""
    body = msgspec.json.encode(
        {
            "graph": msgspec.Raw(graph.encode()),
            "layout": msgspec.Raw(layout.encode()),
            "modelStrength": model_strength,
        }
    )
    return hashlib.sha256(parent_hash.encode() + b"\n" + body).hexdigest()


def check_pipeline(
    tier: Tier, pipeline: Pipeline, model_strength: str, assets: Mapping[str, CatalogAsset]
) -> list[Problem]:
    """Everything a save checks: structure, registry, entitlement."""
    return [
        *validate(pipeline, assets),
        *entitlements.check_entitlement(tier, pipeline, model_strength, assets),
    ]


def _refuse(problems: list[Problem], what: str) -> None:
    bad = errors(problems)
    if bad:
        first = bad[0]
        where = f"node {first.node_id}, " if first.node_id else ""
        raise CloneError(
            "invalid_graph",
            f"{what}: {len(bad)} problem(s); first: {where}{first.field}: {first.message}",
            problems,
        )


# ---------------------------------------------------------------- clones


async def create_clone(db: Database, now_ms: int, owner: str, name: str) -> Clone:
    """A clone starts with an empty draft, the Starter tier and the lightest model."""
    async with db.transaction() as tx:
        result = await tx.execute(
            "INSERT INTO clones (owner_id, name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?)",
            (owner, name, now_ms, now_ms),
        )
        clone_id = result.lastrowid
        assert clone_id is not None
        await _insert_draft(tx, clone_id, EMPTY, DEFAULT_MODEL_STRENGTH, None, owner, now_ms)
        await _grant(tx, clone_id, DEFAULT_TIER, "default", "", owner, now_ms)
        return await load_clone(tx, clone_id)


async def _insert_draft(
    tx: Transaction,
    clone_id: int,
    p: Pipeline,
    strength: str,
    base: SourceRef | None,
    by: str,
    now_ms: int,
) -> None:
    await tx.execute(
        "INSERT INTO clone_drafts (clone_id, revision, base_clone_id, base_version, graph, layout, model_strength,"
        " saved_by, saved_at_ms) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
        (
            clone_id,
            base.clone_id if base else None,
            base.version if base else None,
            encode_graph(p).decode(),
            encode_layout(p.layout).decode(),
            strength,
            by,
            now_ms,
        ),
    )


async def _grant(
    tx: Transaction, clone_id: int, tier: str, source: str, reason: str, by: str, now_ms: int
) -> None:
    await tx.execute(
        "INSERT INTO clone_entitlement_grants (clone_id, tier, source, reason, granted_by, granted_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (clone_id, tier, source, reason, by, now_ms),
    )


async def list_clones(db: Database, owner: str, *, include_archived: bool = False) -> list[Clone]:
    where = "c.owner_id = ?" + ("" if include_archived else " AND c.status = 'active'")
    async with db.read() as r:
        rows = await r.fetchall(
            f"SELECT {_CLONE_COLS} {_CLONE_FROM} WHERE {where} ORDER BY c.id", (owner,)
        )
    return [_clone(row) for row in rows]


async def get_clone(db: Database, user: str | None, clone_id: int) -> Clone:
    async with db.read() as r:
        return _readable(await load_clone(r, clone_id), user)


async def update_clone(
    db: Database, now_ms: int, user: str, clone_id: int, patch: ClonePatch
) -> Clone:
    """Name and strategy visibility live on the clone; the model strength on the draft (it is part
    of what a version freezes), checked against the tier here and again at publish."""
    async with db.transaction() as tx:
        await _owned_active(tx, clone_id, user)
        if patch.model_strength is not UNSET:
            tier = await _tier(tx, clone_id)
            problems = entitlements.check_model_strength(tier, patch.model_strength)
            if problems:
                raise CloneError("model_strength_not_allowed", problems[0].message, problems)
            await tx.execute(
                "UPDATE clone_drafts SET model_strength = ?, revision = revision + 1, saved_by = ?, saved_at_ms = ?"
                " WHERE clone_id = ? AND model_strength != ?",
                (patch.model_strength, user, now_ms, clone_id, patch.model_strength),
            )
        sets = {
            k: v
            for k, v in (("name", patch.name), ("strategy_public", patch.strategy_public))
            if v is not UNSET
        }
        if sets:
            assignments = ", ".join(f"{k} = ?" for k in sets)
            await tx.execute(
                f"UPDATE clones SET {assignments}, updated_at_ms = ? WHERE id = ?",
                (*(int(v) if isinstance(v, bool) else v for v in sets.values()), now_ms, clone_id),
            )
        return await load_clone(tx, clone_id)


async def archive_clone(db: Database, now_ms: int, user: str, clone_id: int) -> Clone:
    """One-way: an archived clone keeps its versions (forks still cite them) but takes no writes."""
    async with db.transaction() as tx:
        await _owned_active(tx, clone_id, user)
        await tx.execute(
            "UPDATE clones SET status = 'archived', archived_at_ms = ?, updated_at_ms = ? WHERE id = ?",
            (now_ms, now_ms, clone_id),
        )
        return await load_clone(tx, clone_id)


async def clone_owner(db: Database, clone_id: int) -> str:
    async with db.read() as r:
        owner = await r.fetchval("SELECT owner_id FROM clones WHERE id = ?", (clone_id,))
    if owner is None:
        raise _not_found(clone_id)
    return owner


# ---------------------------------------------------------------- drafts


def _view(clone_id: int, d: _Draft, tier: Tier, assets: Mapping[str, CatalogAsset]) -> PipelineView:
    p = d.pipeline
    return PipelineView(
        clone_id=clone_id,
        revision=d.revision,
        base=d.base,
        model_strength=d.model_strength,
        saved_by=d.saved_by,
        saved_at_ms=d.saved_at_ms,
        pipeline=p,
        active_assets=active_assets(p, assets),
        problems=check_pipeline(tier, p, d.model_strength, assets),
    )


async def get_pipeline(
    db: Database, user: str, clone_id: int, assets: Mapping[str, CatalogAsset]
) -> PipelineView:
    """The draft with its current problems (the registry may have moved since it was saved)."""
    async with db.read() as r:
        require_owner(await load_clone(r, clone_id), user)
        return _view(clone_id, await _draft(r, clone_id), await _tier(r, clone_id), assets)


async def validate_pipeline(
    db: Database, user: str, clone_id: int, p: Pipeline, assets: Mapping[str, CatalogAsset]
) -> ValidationReport:
    async with db.read() as r:
        require_owner(await load_clone(r, clone_id), user)
        tier = await _tier(r, clone_id)
        strength = (await _draft(r, clone_id)).model_strength
    problems = check_pipeline(tier, p, strength, assets)
    return ValidationReport(
        ok=not errors(problems),
        tier=tier.id,
        active_assets=active_assets(p, assets),
        problems=problems,
    )


def _check_revision(d: _Draft, expected: int | None) -> None:
    if expected is not None and expected != d.revision:
        raise CloneError(
            "revision_mismatch",
            f"the draft is at revision {d.revision}, not {expected}; "
            "reload it and apply your change again",
        )


async def save_pipeline(
    db: Database,
    now_ms: int,
    user: str,
    clone_id: int,
    p: Pipeline,
    assets: Mapping[str, CatalogAsset],
    *,
    expected_revision: int | None = None,
) -> PipelineView:
    """Replace the draft's graph and layout; refused with every problem when any is an error."""
    async with db.transaction() as tx:
        await _owned_active(tx, clone_id, user)
        d = await _draft(tx, clone_id)
        _check_revision(d, expected_revision)
        tier = await _tier(tx, clone_id)
        _refuse(check_pipeline(tier, p, d.model_strength, assets), "the pipeline was not saved")
        await _write_draft(tx, clone_id, p, user, now_ms)
        return _view(clone_id, await _draft(tx, clone_id), tier, assets)


async def _write_draft(tx: Transaction, clone_id: int, p: Pipeline, user: str, now_ms: int) -> None:
    await tx.execute(
        "UPDATE clone_drafts SET graph = ?, layout = ?, revision = revision + 1, saved_by = ?, saved_at_ms = ?"
        " WHERE clone_id = ?",
        (encode_graph(p).decode(), encode_layout(p.layout).decode(), user, now_ms, clone_id),
    )
    await tx.execute("UPDATE clones SET updated_at_ms = ? WHERE id = ?", (now_ms, clone_id))


async def save_layout(
    db: Database,
    now_ms: int,
    user: str,
    clone_id: int,
    layout: Layout,
    assets: Mapping[str, CatalogAsset],
    *,
    expected_revision: int | None = None,
) -> PipelineView:
    """Canvas moves: only the layout changes, so only its references are checked."""
    async with db.transaction() as tx:
        await _owned_active(tx, clone_id, user)
        d = await _draft(tx, clone_id)
        _check_revision(d, expected_revision)
        p = msgspec.structs.replace(d.pipeline, layout=layout)
        _refuse(
            [q for q in validate(p, assets) if q.field.startswith("layout.")],
            "the layout was not saved",
        )
        await _write_draft(tx, clone_id, p, user, now_ms)
        return _view(clone_id, await _draft(tx, clone_id), await _tier(tx, clone_id), assets)


async def reset_draft(
    db: Database,
    now_ms: int,
    user: str,
    clone_id: int,
    version: int,
    assets: Mapping[str, CatalogAsset],
) -> PipelineView:
    """Start editing again from one of this clone's versions."""
    async with db.transaction() as tx:
        await _owned_active(tx, clone_id, user)
        v = await _load_version(tx, clone_id, version)
        await tx.execute(
            "UPDATE clone_drafts SET graph = ?, layout = ?, model_strength = ?, base_clone_id = ?, base_version = ?,"
            " revision = revision + 1, saved_by = ?, saved_at_ms = ? WHERE clone_id = ?",
            (
                encode_graph(v.pipeline).decode(),
                encode_layout(v.pipeline.layout).decode(),
                v.model_strength,
                clone_id,
                version,
                user,
                now_ms,
                clone_id,
            ),
        )
        return _view(clone_id, await _draft(tx, clone_id), await _tier(tx, clone_id), assets)


# ---------------------------------------------------------------- versions


async def publish(
    db: Database,
    now_ms: int,
    user: str,
    clone_id: int,
    note: str,
    assets: Mapping[str, CatalogAsset],
) -> Version:
    """Freeze the draft as the next numbered version, chained to the version it was edited from."""
    async with db.transaction() as tx:
        clone = await _owned_active(tx, clone_id, user)
        d = await _draft(tx, clone_id)
        p = d.pipeline
        problems = check_pipeline(await _tier(tx, clone_id), p, d.model_strength, assets)
        if not any(
            isinstance(n, TradingPromptNode) and n.config.enabled for n in p.nodes
        ) or not active_assets(p, assets):
            problems.append(
                Problem(
                    node_id=None,
                    field="nodes",
                    code="nothing_to_trade",
                    message="publish needs an enabled trading prompt fed by at least one "
                    "tradable asset",
                )
            )
        _refuse(problems, "the draft was not published")
        graph, layout = encode_graph(p).decode(), encode_layout(p.layout).decode()
        if clone.latest_version:
            latest = await tx.fetchone(
                "SELECT graph, layout, model_strength FROM clone_versions"
                " WHERE clone_id = ? AND version = ?",
                (clone_id, clone.latest_version),
            )
            if latest == (graph, layout, d.model_strength):
                raise CloneError("no_changes", f"the draft equals version {clone.latest_version}")
        parent_hash = ""
        if d.base is not None:
            parent_hash = (
                await tx.fetchval(
                    "SELECT hash FROM clone_versions WHERE clone_id = ? AND version = ?",
                    (d.base.clone_id, d.base.version),
                )
                or ""
            )
        number = clone.latest_version + 1
        await tx.execute(
            f"INSERT INTO clone_versions ({_VERSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                clone_id,
                number,
                d.base_clone_id,
                d.base_version,
                parent_hash,
                content_hash(parent_hash, graph, layout, d.model_strength),
                d.model_strength,
                note,
                user,
                now_ms,
                graph,
                layout,
            ),
        )
        await tx.execute(
            "UPDATE clones SET latest_version = ?, updated_at_ms = ? WHERE id = ?",
            (number, now_ms, clone_id),
        )
        await tx.execute(
            "UPDATE clone_drafts SET base_clone_id = ?, base_version = ? WHERE clone_id = ?",
            (clone_id, number, clone_id),
        )
        return await _load_version(tx, clone_id, number)


async def list_versions(db: Database, user: str | None, clone_id: int) -> list[VersionSummary]:
    async with db.read() as r:
        _readable(await load_clone(r, clone_id), user)
        rows = await r.fetchall(
            f"SELECT {_VERSION_COLS} FROM clone_versions WHERE clone_id = ? ORDER BY version",
            (clone_id,),
        )
    return [_version(row, with_pipeline=False) for row in rows]


async def get_version(db: Database, user: str | None, clone_id: int, version: int) -> Version:
    async with db.read() as r:
        _readable(await load_clone(r, clone_id), user)
        return await _load_version(r, clone_id, version)


async def published_version(db: Database, clone_id: int, version: int | None = None) -> Version:
    """For the runtime and backtests: a version (default the latest), no access check."""
    async with db.read() as r:
        clone = await load_clone(r, clone_id)
        number = version or clone.latest_version
        if not number:
            raise CloneError("no_published_version", f"clone {clone_id} has no published version")
        return await _load_version(r, clone_id, number)


VersionRef = int | str


async def _snapshot(r: Reader, clone: Clone, user: str | None, ref: VersionRef) -> Snapshot:
    if ref == "draft":
        require_owner(clone, user or "")
        d = await _draft(r, clone.id)
        return Snapshot(ref="draft", pipeline=d.pipeline, model_strength=d.model_strength)
    if not isinstance(ref, int):
        raise CloneError("invalid_ref", f"a version is a number or 'draft', got {ref!r}")
    v = await _load_version(r, clone.id, ref)
    return Snapshot(ref=str(ref), pipeline=v.pipeline, model_strength=v.model_strength)


async def diff_refs(
    db: Database, user: str | None, clone_id: int, a: VersionRef, b: VersionRef
) -> StrategyDiff:
    async with db.read() as r:
        clone = _readable(await load_clone(r, clone_id), user)
        return diff(await _snapshot(r, clone, user, a), await _snapshot(r, clone, user, b))


# ---------------------------------------------------------------- forks


async def fork(
    db: Database,
    now_ms: int,
    user: str,
    clone_id: int,
    version: int | None,
    name: str | None,
    assets: Mapping[str, CatalogAsset],
) -> ForkResult:
    """A new clone owned by `user`, its draft copied from a version (default: the latest; the
    owner may fork an unpublished draft). Attribution is permanent: `forked_from` on the clone,
    and the first version it publishes is chained to the source version's hash."""
    async with db.transaction() as tx:
        source = _readable(await load_clone(tx, clone_id), user)
        number = version if version is not None else source.latest_version or None
        base: SourceRef | None
        if number is not None:
            v = await _load_version(tx, clone_id, number)
            p, strength, base = v.pipeline, v.model_strength, SourceRef(clone_id, number)
        elif source.owner_id == user:
            d = await _draft(tx, clone_id)
            p, strength, base = d.pipeline, d.model_strength, d.base
        else:
            raise CloneError(
                "no_published_version", f"clone {clone_id} has no published version to fork"
            )
        label = name or (
            f"{source.name} (fork)" if source.owner_id == user else f"Fork of clone {clone_id}"
        )
        result = await tx.execute(
            "INSERT INTO clones (owner_id, name, forked_from_clone_id, forked_from_version, created_at_ms,"
            " updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (user, label[:80], clone_id, number, now_ms, now_ms),
        )
        new_id = result.lastrowid
        assert new_id is not None
        tier = entitlements.tier(DEFAULT_TIER)
        if strength not in tier.model_strengths:
            strength = DEFAULT_MODEL_STRENGTH
        await _insert_draft(tx, new_id, p, strength, base, user, now_ms)
        await _grant(tx, new_id, DEFAULT_TIER, "default", f"fork of clone {clone_id}", user, now_ms)
        return ForkResult(
            clone=await load_clone(tx, new_id), problems=check_pipeline(tier, p, strength, assets)
        )


# ---------------------------------------------------------------- entitlements


async def get_entitlement(
    db: Database, user: str, clone_id: int, assets: Mapping[str, CatalogAsset]
) -> EntitlementView:
    async with db.read() as r:
        require_owner(await load_clone(r, clone_id), user)
        return await _entitlement(r, clone_id, assets)


async def _entitlement(
    s: Session, clone_id: int, assets: Mapping[str, CatalogAsset]
) -> EntitlementView:
    row = await s.fetchone(
        "SELECT tier, source, reason, granted_by, granted_at_ms FROM clone_entitlement_grants WHERE clone_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (clone_id,),
    )
    assert row is not None, "every clone has a grant from its creation"
    tier_id, source, reason, by, at = row
    tier = entitlements.tier(tier_id)
    d = await _draft(s, clone_id)
    p = d.pipeline
    return EntitlementView(
        clone_id=clone_id,
        tier=tier,
        source=source,
        reason=reason,
        granted_by=by,
        granted_at_ms=at,
        active_assets=active_assets(p, assets),
        problems=entitlements.check_entitlement(tier, p, d.model_strength, assets),
    )


async def grant_tier(
    db: Database,
    now_ms: int,
    clone_id: int,
    tier: str,
    *,
    source: str,
    granted_by: str,
    reason: str,
    assets: Mapping[str, CatalogAsset],
) -> EntitlementView:
    """Set a clone's tier (economy purchases, admins). A downgrade does not rewrite the draft: the
    returned problems say what no longer fits, and every later check enforces the new tier."""
    if tier not in entitlements.TIER_IDS:
        raise CloneError(
            "unknown_tier",
            f"unknown tier {tier!r}; expected one of {', '.join(entitlements.TIER_IDS)}",
        )
    async with db.transaction() as tx:
        await load_clone(tx, clone_id)
        await _grant(tx, clone_id, tier, source, reason, granted_by, now_ms)
        return await _entitlement(tx, clone_id, assets)


async def clone_tier(db: Database, clone_id: int) -> Tier:
    async with db.read() as r:
        await load_clone(r, clone_id)
        return await _tier(r, clone_id)


# ---------------------------------------------------------------- invariants


async def check_invariants(r: Reader) -> list[str]:
    """Every clone has a draft and a tier; versions run 1..latest; every hash recomputes."""
    problems: list[str] = []
    for (cid,) in await r.fetchall(
        "SELECT id FROM clones c WHERE NOT EXISTS (SELECT 1 FROM clone_drafts d WHERE d.clone_id = c.id)"
        " OR NOT EXISTS (SELECT 1 FROM clone_entitlement_grants g WHERE g.clone_id = c.id)"
    ):
        problems.append(f"clone {cid} has no draft or no tier")
    for cid, latest, count, top in await r.fetchall(
        "SELECT c.id, c.latest_version, count(v.version), coalesce(max(v.version), 0)"
        " FROM clones c LEFT JOIN clone_versions v ON v.clone_id = c.id GROUP BY c.id"
    ):
        if not latest == count == top:
            problems.append(
                f"clone {cid}: latest_version {latest}, {count} versions, highest {top}"
            )
    hashes = {
        (c, n): h
        for c, n, h in await r.fetchall("SELECT clone_id, version, hash FROM clone_versions")
    }
    for cid, n, pcid, pn, phash, h, graph, layout, strength in await r.fetchall(
        "SELECT clone_id, version, parent_clone_id, parent_version, parent_hash, hash, graph, layout,"
        " model_strength FROM clone_versions"
    ):
        expected_parent = hashes.get((pcid, pn), "") if pcid is not None else ""
        if phash != expected_parent:
            problems.append(f"clone {cid} v{n}: parent hash does not match clone {pcid} v{pn}")
        if content_hash(phash, graph, layout, strength) != h:
            problems.append(f"clone {cid} v{n}: content does not match its hash")
    return problems
