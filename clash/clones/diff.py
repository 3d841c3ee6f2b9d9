"""Diff two strategy snapshots (draft or versions): nodes, edges, prompt text, model strength.

Pure. Nodes match by id, edges by (source, target). Config changes are listed per dotted path
with before and after values; prompt texts also get a line diff. Node positions and the layout
are canvas state: they only set `layout_changed`.
"""

from __future__ import annotations

import difflib
from typing import Any

import msgspec

from clash.clones.graph import Node, Pipeline, node_type, prompt_texts


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    ref: str
    """"draft" or the version number."""
    pipeline: Pipeline
    model_strength: str


class FieldChange(msgspec.Struct, frozen=True):
    path: str
    before: Any
    after: Any


class NodeChange(msgspec.Struct, frozen=True):
    node_id: str
    type: str
    changes: list[FieldChange]


class NodeRef(msgspec.Struct, frozen=True):
    node_id: str
    type: str


class EdgeRef(msgspec.Struct, frozen=True):
    source: str
    target: str


class PromptChange(msgspec.Struct, frozen=True):
    path: str
    """The prompt node id, or "<node>/<symbol>" for an asset override."""
    before: str | None
    after: str | None
    unified: list[str]


class StrategyDiff(msgspec.Struct, frozen=True, kw_only=True):
    from_ref: str
    to_ref: str
    identical: bool
    nodes_added: list[NodeRef]
    nodes_removed: list[NodeRef]
    nodes_changed: list[NodeChange]
    edges_added: list[EdgeRef]
    edges_removed: list[EdgeRef]
    prompts: list[PromptChange]
    model_strength: FieldChange | None
    layout_changed: bool


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k in sorted(value):
            out.update(_flat(value[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _node_fields(n: Node) -> dict[str, Any]:
    raw = msgspec.to_builtins(n)
    raw.pop("position", None)
    raw.pop("id", None)
    return _flat(raw)


def _node_change(a: Node, b: Node) -> NodeChange | None:
    fa, fb = _node_fields(a), _node_fields(b)
    changes = [
        FieldChange(k, fa.get(k), fb.get(k))
        for k in sorted(fa.keys() | fb.keys())
        if fa.get(k) != fb.get(k)
    ]
    return NodeChange(a.id, node_type(b), changes) if changes else None


def _prompt_changes(a: Pipeline, b: Pipeline, from_ref: str, to_ref: str) -> list[PromptChange]:
    ta, tb = prompt_texts(a), prompt_texts(b)
    out = []
    for path in sorted(ta.keys() | tb.keys()):
        before, after = ta.get(path), tb.get(path)
        if before == after:
            continue
        lines = difflib.unified_diff(
            (before or "").splitlines(),
            (after or "").splitlines(),
            f"{from_ref}:{path}",
            f"{to_ref}:{path}",
            lineterm="",
        )
        out.append(PromptChange(path, before, after, list(lines)))
    return out


def diff(a: Snapshot, b: Snapshot) -> StrategyDiff:
    na = {n.id: n for n in a.pipeline.nodes}
    nb = {n.id: n for n in b.pipeline.nodes}
    changed = [c for i in na if i in nb and (c := _node_change(na[i], nb[i])) is not None]
    ea = {(e.source, e.target) for e in a.pipeline.edges}
    eb = {(e.source, e.target) for e in b.pipeline.edges}
    strength = (
        FieldChange("modelStrength", a.model_strength, b.model_strength)
        if a.model_strength != b.model_strength
        else None
    )
    layout_changed = a.pipeline.layout != b.pipeline.layout or (
        {i: n.position for i, n in na.items()} != {i: n.position for i, n in nb.items()}
    )
    result = StrategyDiff(
        from_ref=a.ref,
        to_ref=b.ref,
        identical=False,
        nodes_added=[NodeRef(i, node_type(n)) for i, n in nb.items() if i not in na],
        nodes_removed=[NodeRef(i, node_type(n)) for i, n in na.items() if i not in nb],
        nodes_changed=changed,
        edges_added=[EdgeRef(s, t) for s, t in sorted(eb - ea)],
        edges_removed=[EdgeRef(s, t) for s, t in sorted(ea - eb)],
        prompts=_prompt_changes(a.pipeline, b.pipeline, a.ref, b.ref),
        model_strength=strength,
        layout_changed=layout_changed,
    )
    same = not (
        result.nodes_added
        or result.nodes_removed
        or changed
        or result.edges_added
        or result.edges_removed
        or strength
        or layout_changed
    )
    return msgspec.structs.replace(result, identical=same)
