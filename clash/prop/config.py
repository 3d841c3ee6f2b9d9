"""Prop trading settings (the `[prop]` section)."""

from __future__ import annotations

import msgspec


class PropConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mark_interval_s: float = 10.0
