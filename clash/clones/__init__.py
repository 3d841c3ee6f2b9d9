"""Clones: drafts and immutable versions of a pipeline graph, entitlements, public profiles,
moderation.

The contract: other modules read and change clones only through `ClonesModule` and get back the
value types below. The pipeline graph (`Pipeline` and its nodes, `decode_pipeline`, `validate`,
`resolve_retrieval`), the Basic-mode builder (`build`, `BasicChoices`), the tier checks
(`check_entitlement`, `tiers`) and the asset catalog protocol (`AssetCatalog`, `CatalogAsset`)
are pure and shared. `graph_errors` keeps the error-severity problems of a validation. Tables,
SQL and the service functions behind the module are private. See docs/clones.md.
"""

from clash.clones.basic import ASSETS_ID, BasicChoices, build, stream_id
from clash.clones.catalog import AssetCatalog, CatalogAsset, StaticCatalog, perp, spot
from clash.clones.diff import StrategyDiff
from clash.clones.entitlements import ModelStrength, Tier, TierId, check_entitlement, tiers
from clash.clones.graph import (
    CHANNELS,
    GRANULARITY_MINUTES,
    HYPERLIQUID_CHANNELS,
    AssetSelectionNode,
    DataStreamConfig,
    DataStreamNode,
    Edge,
    Layout,
    Pipeline,
    Position,
    Problem,
    TradingPromptConfig,
    TradingPromptNode,
    decode_pipeline,
    encode_graph,
    resolve_retrieval,
    validate,
)
from clash.clones.graph import errors as graph_errors
from clash.clones.moderation import ProfileIn, Reason, ReportIn
from clash.clones.module import ClonesModule
from clash.clones.service import (
    Clone,
    CloneError,
    ClonePatch,
    Name,
    Note,
    ValidationReport,
    Version,
    VersionRef,
)

__all__ = [
    "ASSETS_ID",
    "CHANNELS",
    "GRANULARITY_MINUTES",
    "HYPERLIQUID_CHANNELS",
    "AssetCatalog",
    "AssetSelectionNode",
    "BasicChoices",
    "CatalogAsset",
    "Clone",
    "CloneError",
    "ClonePatch",
    "ClonesModule",
    "DataStreamConfig",
    "DataStreamNode",
    "Edge",
    "Layout",
    "ModelStrength",
    "Name",
    "Note",
    "Pipeline",
    "Position",
    "Problem",
    "ProfileIn",
    "Reason",
    "ReportIn",
    "StaticCatalog",
    "StrategyDiff",
    "Tier",
    "TierId",
    "TradingPromptConfig",
    "TradingPromptNode",
    "ValidationReport",
    "Version",
    "VersionRef",
    "build",
    "check_entitlement",
    "decode_pipeline",
    "encode_graph",
    "graph_errors",
    "perp",
    "resolve_retrieval",
    "spot",
    "stream_id",
    "tiers",
    "validate",
]
