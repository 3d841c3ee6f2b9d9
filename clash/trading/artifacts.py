"""The decision artifact store: full context, prompt, raw response and reasoning of each run.

Objects live in an :class:`ObjectStore` (a local folder by default; an S3-compatible store only
has to implement the same three calls); their keys, sizes and digests live in SQLite
(`decision_artifacts`). One object per run, keyed `decisions/<YYYY-MM-DD>/<run_id>.json.gz`: a
gzip'd JSON object holding each payload (itself JSON) under its kind. Retention deletes objects
older than the window and marks their rows deleted; the run and action rows (the summaries) are
kept for good.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread
import msgspec

from clash.store import Database
from clash.trading import records
from clash.trading.records import ArtifactKind, ArtifactPart, ArtifactRow, RecordWriter


class ObjectStore(Protocol):
    async def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Write every object (overwriting a key that exists)."""

    async def get(self, key: str) -> bytes | None:
        """The object, or None when it does not exist (deleted, or never written)."""

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete the objects; a key that does not exist is not an error."""


class LocalObjectStore:
    """Objects as files under `root` (written to a temporary name, then renamed into place)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"artifact key {key!r} is not a relative path inside the store")
        return self.root.joinpath(*parts)

    async def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        await anyio.to_thread.run_sync(self._put_many, [(self.path(k), data) for k, data in items])

    async def get(self, key: str) -> bytes | None:
        return await anyio.to_thread.run_sync(_read, self.path(key))

    async def delete_many(self, keys: Sequence[str]) -> None:
        await anyio.to_thread.run_sync(_delete, [self.path(k) for k in keys])

    @staticmethod
    def _put_many(items: list[tuple[Path, bytes]]) -> None:
        made: set[Path] = set()
        for path, data in items:
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _delete(paths: list[Path]) -> None:
    folders = set()
    for path in paths:
        path.unlink(missing_ok=True)
        folders.add(path.parent)
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass


class MemoryObjectStore:
    """For tests and benches that do not want files."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        self.objects.update(items)

    async def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)


def artifact_key(run_id: str, at_ms: int) -> str:
    day = datetime.datetime.fromtimestamp(at_ms / 1000, datetime.UTC).date().isoformat()
    return f"decisions/{day}/{run_id}.json.gz"


_bundle = msgspec.json.Encoder()
_unbundle = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _pack(parts: Mapping[ArtifactKind, bytes]) -> tuple[bytes, dict[ArtifactKind, ArtifactPart]]:
    """The object's bytes (payloads embedded as they are, then gzip'd) and each part's digest."""
    body = _bundle.encode({kind: msgspec.Raw(data) for kind, data in parts.items()})
    digests = {
        kind: ArtifactPart(len(data), hashlib.sha256(data).hexdigest())
        for kind, data in parts.items()
    }
    return gzip.compress(body, compresslevel=1, mtime=0), digests


class _Job:
    __slots__ = ("run_id", "at_ms", "parts", "row", "done", "error")

    def __init__(self, run_id: str, at_ms: int, parts: Mapping[ArtifactKind, bytes]) -> None:
        self.run_id, self.at_ms, self.parts = run_id, at_ms, parts
        self.row: ArtifactRow | None = None
        self.done = False
        self.error: BaseException | None = None


class Artifacts:
    """Archive runs' payloads, read them back, expire them.

    Archiving is batched like a group commit: the runs that hand in payloads while a batch is
    being compressed and written go together in the next one (one worker-thread trip per batch).
    """

    def __init__(self, store: ObjectStore, retention_ms: int) -> None:
        self.store = store
        self.retention_ms = retention_ms
        self._queue: list[_Job] = []
        self._busy = False
        self._idle: anyio.Event | None = None

    async def archive(
        self, run_id: str, at_ms: int, parts: Mapping[ArtifactKind, bytes]
    ) -> ArtifactRow:
        """Write the run's object; the caller commits the returned row with the run's own rows."""
        job = _Job(run_id, at_ms, parts)
        self._queue.append(job)
        while not job.done:
            if self._busy:
                assert self._idle is not None
                await self._idle.wait()
                continue
            self._busy, self._idle = True, anyio.Event()
            batch, self._queue = self._queue, []
            try:
                with anyio.CancelScope(shield=True):
                    await self._write(batch)
            finally:
                self._busy = False
                self._idle.set()
        if job.error is not None:
            raise job.error
        assert job.row is not None
        return job.row

    async def _write(self, batch: list[_Job]) -> None:
        try:
            packed = await anyio.to_thread.run_sync(lambda: [_pack(job.parts) for job in batch])
            for job, (data, digests) in zip(batch, packed, strict=True):
                job.row = ArtifactRow(
                    key=artifact_key(job.run_id, job.at_ms),
                    run_id=job.run_id,
                    parts=digests,
                    stored_bytes=len(data),
                    created_ms=job.at_ms,
                    expires_ms=job.at_ms + self.retention_ms,
                )
            await self.store.put_many(
                [
                    (job.row.key, data)
                    for job, (data, _) in zip(batch, packed, strict=True)
                    if job.row is not None
                ]
            )
        except Exception as exc:
            for job in batch:
                job.error = exc
        for job in batch:
            job.done = True

    async def read(self, row: ArtifactRow) -> dict[str, bytes] | None:
        """Each payload's original bytes by kind, or None once retention deleted the object."""
        if row.deleted_ms is not None:
            return None
        data = await self.store.get(row.key)
        if data is None:
            return None
        return {kind: bytes(raw) for kind, raw in _unbundle.decode(gzip.decompress(data)).items()}

    async def sweep(self, db: Database, writer: RecordWriter, now_ms: int, batch: int) -> int:
        """Delete the objects past their expiry (at most `batch`) and mark their rows; returns how many."""
        async with db.read() as r:
            expired = await records.expired_artifacts(r, now_ms, batch)
        if not expired:
            return 0
        keys = [row.key for row in expired]
        await self.store.delete_many(keys)
        await writer.write(records.mark_deleted(keys, now_ms))
        return len(keys)
