"""Public clone profiles, reports and report-based moderation (seed 000).

A profile (display name, avatar URL, bio) is the clone's public identity, kept apart from its
private strategy. Submitting publishes at once; anyone signed in can report a public profile;
admins work the queue of reported profiles and retire or reinstate. A retired profile stays
retired when its owner edits it, until an admin reinstates it. Every admin action is logged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from clash.clones.service import CloneError, load_clone, require_owner, require_writable
from clash.store import Database, Reader, Session

ReportReason = Literal["spam", "impersonation", "offensive", "scam", "other"]
DisplayName = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^\S(.*\S)?$")]
AvatarUrl = Annotated[str, Meta(max_length=500, pattern=r"^https?://\S+$")]
Bio = Annotated[str, Meta(max_length=500)]
Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=r"\S")]


class ProfileIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    display_name: DisplayName
    avatar_url: AvatarUrl | None = None
    bio: Bio = ""


class PublicProfile(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    display_name: str
    avatar_url: str | None
    bio: str
    published_at_ms: int


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """The owner's and admins' view: status and why it was retired."""

    clone_id: int
    display_name: str
    avatar_url: str | None
    bio: str
    status: Literal["published", "retired"]
    submitted_at_ms: int
    updated_at_ms: int
    retired_at_ms: int | None
    retired_by: str | None
    retired_reason: str | None
    open_reports: int


class ReportIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: ReportReason
    note: Annotated[str, Meta(max_length=1000)] = ""


class Report(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    clone_id: int
    reporter_id: str
    reason: ReportReason
    note: str
    status: Literal["open", "upheld", "dismissed"]
    profile_snapshot: PublicProfile
    created_at_ms: int
    resolved_at_ms: int | None
    resolved_by: str | None


class QueueEntry(msgspec.Struct, frozen=True, kw_only=True):
    profile: Profile
    open_reports: int
    reasons: dict[str, int]
    first_reported_at_ms: int
    last_reported_at_ms: int
    reports: list[Report]


class ModerationResult(msgspec.Struct, frozen=True, kw_only=True):
    action: Literal["retire", "reinstate"]
    profile: Profile
    reports_resolved: int


_PROFILE_COLS = (
    "p.clone_id, p.display_name, p.avatar_url, p.bio, p.status, p.submitted_at_ms, p.updated_at_ms,"
    " p.retired_at_ms, p.retired_by, p.retired_reason,"
    " (SELECT count(*) FROM profile_reports r WHERE r.clone_id = p.clone_id AND r.status = 'open')"
)
_REPORT_COLS = (
    "id, clone_id, reporter_id, reason, note, status, profile_snapshot, created_at_ms, resolved_at_ms,"
    " resolved_by"
)
_PUBLIC = "p.status = 'published' AND EXISTS (SELECT 1 FROM clones c WHERE c.id = p.clone_id AND c.status = 'active')"


def _profile(row: tuple[Any, ...]) -> Profile:
    (
        cid,
        name,
        avatar,
        bio,
        status,
        submitted,
        updated,
        retired_at,
        retired_by,
        retired_reason,
        open_reports,
    ) = row
    return Profile(
        clone_id=cid,
        display_name=name,
        avatar_url=avatar,
        bio=bio,
        status=status,
        submitted_at_ms=submitted,
        updated_at_ms=updated,
        retired_at_ms=retired_at,
        retired_by=retired_by,
        retired_reason=retired_reason,
        open_reports=open_reports,
    )


def public(p: Profile) -> PublicProfile:
    return PublicProfile(
        clone_id=p.clone_id,
        display_name=p.display_name,
        avatar_url=p.avatar_url,
        bio=p.bio,
        published_at_ms=p.updated_at_ms,
    )


def _report(row: tuple[Any, ...]) -> Report:
    (rid, cid, reporter, reason, note, status, snapshot, created, resolved_at, resolved_by) = row
    return Report(
        id=rid,
        clone_id=cid,
        reporter_id=reporter,
        reason=reason,
        note=note,
        status=status,
        profile_snapshot=msgspec.json.decode(snapshot, type=PublicProfile),
        created_at_ms=created,
        resolved_at_ms=resolved_at,
        resolved_by=resolved_by,
    )


def _missing(clone_id: int) -> CloneError:
    return CloneError("profile_not_found", f"clone {clone_id} has no public profile")


async def _load_profile(s: Session, clone_id: int) -> Profile:
    row = await s.fetchone(
        f"SELECT {_PROFILE_COLS} FROM clone_profiles p WHERE p.clone_id = ?", (clone_id,)
    )
    if row is None:
        raise _missing(clone_id)
    return _profile(row)


async def put_profile(
    db: Database, now_ms: int, user: str, clone_id: int, body: ProfileIn
) -> Profile:
    """Submit or edit: a new profile is published at once (no pre-approval)."""
    async with db.transaction() as tx:
        require_writable(await load_clone(tx, clone_id), user)
        await tx.execute(
            "INSERT INTO clone_profiles (clone_id, display_name, avatar_url, bio, status, submitted_at_ms,"
            " updated_at_ms) VALUES (?, ?, ?, ?, 'published', ?, ?) ON CONFLICT (clone_id) DO UPDATE SET"
            " display_name = excluded.display_name, avatar_url = excluded.avatar_url, bio = excluded.bio,"
            " updated_at_ms = excluded.updated_at_ms",
            (clone_id, body.display_name, body.avatar_url, body.bio, now_ms, now_ms),
        )
        return await _load_profile(tx, clone_id)


async def owner_profile(db: Database, user: str, clone_id: int) -> Profile:
    async with db.read() as r:
        require_owner(await load_clone(r, clone_id), user)
        return await _load_profile(r, clone_id)


async def public_profile(db: Database, clone_id: int) -> PublicProfile:
    async with db.read() as r:
        row = await r.fetchone(
            f"SELECT {_PROFILE_COLS} FROM clone_profiles p WHERE p.clone_id = ? AND {_PUBLIC}",
            (clone_id,),
        )
    if row is None:
        raise _missing(clone_id)
    return public(_profile(row))


async def list_public_profiles(
    db: Database, *, after: int = 0, limit: int = 50
) -> list[PublicProfile]:
    async with db.read() as r:
        rows = await r.fetchall(
            f"SELECT {_PROFILE_COLS} FROM clone_profiles p WHERE p.clone_id > ? AND {_PUBLIC}"
            " ORDER BY p.clone_id LIMIT ?",
            (after, limit),
        )
    return [public(_profile(row)) for row in rows]


async def is_public(db: Database, clone_id: int) -> bool:
    """The Arena's admission gate: a published, not retired profile of an active clone."""
    async with db.read() as r:
        return bool(
            await r.fetchval(
                f"SELECT 1 FROM clone_profiles p WHERE p.clone_id = ? AND {_PUBLIC}", (clone_id,)
            )
        )


async def report(db: Database, now_ms: int, user: str, clone_id: int, body: ReportIn) -> Report:
    """One open report per reporter and profile; the report keeps the profile as it was seen."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            f"SELECT {_PROFILE_COLS} FROM clone_profiles p WHERE p.clone_id = ? AND {_PUBLIC}",
            (clone_id,),
        )
        if row is None:
            raise _missing(clone_id)
        if await tx.fetchval("SELECT owner_id FROM clones WHERE id = ?", (clone_id,)) == user:
            raise CloneError("own_profile", "you cannot report your own clone's profile")
        if await tx.fetchval(
            "SELECT 1 FROM profile_reports WHERE clone_id = ? AND reporter_id = ?"
            " AND status = 'open'",
            (clone_id, user),
        ):
            raise CloneError(
                "already_reported", f"you already have an open report on clone {clone_id}"
            )
        snapshot = msgspec.json.encode(public(_profile(row))).decode()
        result = await tx.execute(
            "INSERT INTO profile_reports (clone_id, reporter_id, reason, note, profile_snapshot, created_at_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (clone_id, user, body.reason, body.note, snapshot, now_ms),
        )
        row = await tx.fetchone(
            f"SELECT {_REPORT_COLS} FROM profile_reports WHERE id = ?", (result.lastrowid,)
        )
        assert row is not None  # inserted just above, in this transaction
        return _report(row)


async def queue(db: Database, *, limit: int = 50, reports_per_entry: int = 20) -> list[QueueEntry]:
    """Profiles with open reports, most reported first, then longest waiting."""
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT clone_id, count(*), min(created_at_ms), max(created_at_ms) FROM profile_reports"
            " WHERE status = 'open' GROUP BY clone_id ORDER BY count(*) DESC, min(created_at_ms), clone_id LIMIT ?",
            (limit,),
        )
        return [
            await _entry(r, clone_id, count, first, last, reports_per_entry)
            for clone_id, count, first, last in rows
        ]


async def _entry(
    r: Reader, clone_id: int, count: int, first: int, last: int, keep: int
) -> QueueEntry:
    reports = [
        _report(row)
        for row in await r.fetchall(
            f"SELECT {_REPORT_COLS} FROM profile_reports WHERE clone_id = ? AND status = 'open' ORDER BY id LIMIT ?",
            (clone_id, keep),
        )
    ]
    reasons = dict(
        await r.fetchall(
            "SELECT reason, count(*) FROM profile_reports WHERE clone_id = ? AND status = 'open' GROUP BY reason"
            " ORDER BY reason",
            (clone_id,),
        )
    )
    return QueueEntry(
        profile=await _load_profile(r, clone_id),
        open_reports=count,
        reasons=reasons,
        first_reported_at_ms=first,
        last_reported_at_ms=last,
        reports=reports,
    )


async def retire(
    db: Database, now_ms: int, admin: str, clone_id: int, reason: str
) -> ModerationResult:
    """Take a profile down; its open reports are upheld."""
    async with db.transaction() as tx:
        if (await _load_profile(tx, clone_id)).status == "retired":
            raise CloneError(
                "already_retired", f"the profile of clone {clone_id} is already retired"
            )
        await tx.execute(
            "UPDATE clone_profiles SET status = 'retired', retired_at_ms = ?, retired_by = ?,"
            " retired_reason = ? WHERE clone_id = ?",
            (now_ms, admin, reason, clone_id),
        )
        resolved = await _resolve(tx, clone_id, "upheld", admin, now_ms)
        await _log(tx, clone_id, "retire", admin, reason, resolved, now_ms)
        return ModerationResult(
            action="retire", profile=await _load_profile(tx, clone_id), reports_resolved=resolved
        )


async def reinstate(
    db: Database, now_ms: int, admin: str, clone_id: int, reason: str
) -> ModerationResult:
    """Put a retired profile back, or keep a reported one up; open reports are dismissed."""
    async with db.transaction() as tx:
        p = await _load_profile(tx, clone_id)
        if p.status == "published" and not p.open_reports:
            raise CloneError(
                "nothing_to_reinstate",
                f"the profile of clone {clone_id} is published and unreported",
            )
        await tx.execute(
            "UPDATE clone_profiles SET status = 'published', retired_at_ms = NULL, retired_by = NULL,"
            " retired_reason = NULL WHERE clone_id = ?",
            (clone_id,),
        )
        resolved = await _resolve(tx, clone_id, "dismissed", admin, now_ms)
        await _log(tx, clone_id, "reinstate", admin, reason, resolved, now_ms)
        return ModerationResult(
            action="reinstate", profile=await _load_profile(tx, clone_id), reports_resolved=resolved
        )


async def _resolve(tx: Session, clone_id: int, status: str, admin: str, now_ms: int) -> int:
    result = await tx.execute(
        "UPDATE profile_reports SET status = ?, resolved_at_ms = ?, resolved_by = ?"
        " WHERE clone_id = ? AND status = 'open'",
        (status, now_ms, admin, clone_id),
    )
    return result.rowcount


async def _log(
    tx: Session, clone_id: int, action: str, admin: str, reason: str, resolved: int, now_ms: int
) -> None:
    await tx.execute(
        "INSERT INTO moderation_actions (clone_id, action, admin, reason, reports_resolved, at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (clone_id, action, admin, reason, resolved, now_ms),
    )
