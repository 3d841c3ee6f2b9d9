"""A dry run: a clone's pipeline once, now, for every candidate of every enabled branch, on a
synthetic book at the default starting equity. Dry-run rows only; no prop account is touched."""

from __future__ import annotations

import hashlib
import uuid

import anyio

from clash.prop import Limits
from clash.store import Database
from clash.trading import context, records, runner
from clash.trading.account_side import SyntheticSide
from clash.trading.candidates import choose
from clash.trading.packet import Compilation
from clash.trading.records import DryRun
from clash.trading.run_rows import bare_row
from clash.trading.run_spec import RunSpec
from clash.trading.scheduler import Scheduler
from clash.trading.tick_order import TickOrder


async def dry_run(
    c: Compilation,
    ref: str,
    denied: list[str],
    scheduler: Scheduler,
    limits: Limits,
    db: Database,
    now: int,
) -> DryRun:
    """`denied`: entitlement problems; with any, every run is recorded `entitlement_denied` and
    nothing runs. The runs share one synthetic book and commit to it in a fixed order (asset,
    then run id), as a tick's runs do."""
    dry_id = uuid.uuid4().hex[:16]
    facts = await scheduler.facts()
    specs: list[RunSpec] = []
    for branch in c.compiled.branches:
        if not branch.enabled:
            continue
        scores = await context.prefilter_scores(scheduler.deps.memory, branch, now)
        by_symbol = {a.symbol: a for a in branch.assets}
        for candidate in choose(branch, [], scores).selected:
            key = f"{dry_id}\x1f{branch.prompt_node_id}\x1f{candidate.symbol}".encode()
            specs.append(
                RunSpec(
                    run_id="dd_" + hashlib.sha256(key).hexdigest()[:24],
                    clone=c.clone,
                    version=c.clone.version,
                    branch=branch,
                    asset=by_symbol[candidate.symbol],
                    candidate=candidate,
                    due_ms=now,
                    model_strength=c.clone.model_strength,
                    facts=facts.get(candidate.symbol),
                    dry_run=True,
                )
            )
    if denied:
        await scheduler.record(
            bare_row(
                s,
                None,
                "entitlement_denied",
                now,
                error_code="entitlement",
                error="; ".join(denied),
                engine=scheduler.deps.decider.name,
            )
            for s in specs
        )
    else:
        side = SyntheticSide(limits, {s: f.spec() for s, f in facts.items()}, now)
        order = TickOrder(
            [s.run_id for s in sorted(specs, key=lambda s: (s.asset.symbol, s.run_id))]
        )
        async with anyio.create_task_group() as tg:
            for spec in specs:
                tg.start_soon(runner.execute, spec, side, scheduler.deps, order)
    async with db.read() as r:
        found = await records.decisions(r, [s.run_id for s in specs])
    return DryRun(
        dry_run_id=dry_id,
        clone_id=c.clone.clone_id,
        ref=ref,
        as_of_ms=now,
        problems=denied,
        decisions=found,
    )
