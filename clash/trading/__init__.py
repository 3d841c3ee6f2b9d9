"""AI trading: compiles a clone's graph into read plans, builds the effective context packet, asks
a decider (rules, a model, a script) and submits its actions to the clone's prop account.

The contract: other modules (and the HTTP routes) use `TradingModule` (activation, pause, dry
runs, previews, decision history, costs, and the owner's trading control: sandbox accounts and the
Trading Clone Block) and read its answers as the records below. `VersionRef`
selects a clone version (`"draft"`, `"latest"` or a number). Engines, the scheduler, caches,
prompts and tables are private to the package.
"""

from clash.trading.config import TradingConfig
from clash.trading.control import MAX_SANDBOX_ACCOUNTS, AccountTrading, TradingBlock
from clash.trading.errors import TradingError
from clash.trading.module import TradingModule, VersionRef
from clash.trading.records import (
    RUN_STATUSES,
    ActionRow,
    Activation,
    ArtifactPart,
    ArtifactRow,
    CloneCosts,
    ContextSummary,
    ControlChange,
    CostLine,
    DailyCosts,
    Decision,
    DecisionDetail,
    DryRun,
    Pause,
    RunRow,
)

__all__ = [
    "MAX_SANDBOX_ACCOUNTS",
    "RUN_STATUSES",
    "AccountTrading",
    "ActionRow",
    "Activation",
    "ArtifactPart",
    "ArtifactRow",
    "CloneCosts",
    "ContextSummary",
    "ControlChange",
    "CostLine",
    "DailyCosts",
    "Decision",
    "DecisionDetail",
    "DryRun",
    "Pause",
    "RunRow",
    "TradingBlock",
    "TradingConfig",
    "TradingError",
    "TradingModule",
    "VersionRef",
]
