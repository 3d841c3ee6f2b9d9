"""Market data settings (the `[market]` section)."""

from __future__ import annotations

from typing import Literal

import msgspec


class MarketConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    source: Literal["sim", "live"] = "sim"
    sim_seed: int = 7
