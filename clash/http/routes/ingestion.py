"""Ingestion health: JSON for the frontend and a plain server-rendered page at /admin/ingestion.

The page is read-only, unlinked and carries no secrets (as the seed's admin dashboard); it
refreshes itself every 30 s without any script.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from clash.http.bodies import json_response, query_int
from clash.market import ChannelHealth, ChannelSeries, Dashboard, MarketModule

_COLORS = {"ok": "#1a7f37", "stale": "#9a6700", "failing": "#cf222e", "disabled": "#6e7781"}


def _market(request: Request) -> MarketModule:
    return request.app.state.runtime.module(MarketModule)


async def health(request: Request) -> Response:
    return json_response(await _market(request).health())


async def dashboard(request: Request) -> Response:
    hours = query_int(request, "hours", 6, lo=1, hi=168)
    return json_response(await _market(request).dashboard(hours))


async def page(request: Request) -> Response:
    hours = query_int(request, "hours", 6, lo=1, hi=168)
    return HTMLResponse(render_page(await _market(request).dashboard(hours)))


def _time(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _lag(ms: int | None) -> str:
    if ms is None:
        return "-"
    s = ms / 1000
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _spark(values: list[float | None], color: str) -> str:
    """An inline SVG polyline of a series (missing points skipped)."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return '<svg width="120" height="24"></svg>'
    top = max(v for _, v in points) or 1.0
    n = max(len(values) - 1, 1)
    coords = " ".join(f"{i * 118 / n + 1:.1f},{23 - v / top * 22:.1f}" for i, v in points)
    return (
        f'<svg width="120" height="24"><polyline fill="none" stroke="{color}" '
        f'stroke-width="1.5" points="{coords}"/></svg>'
    )


def _row(ch: ChannelHealth, series: ChannelSeries | None) -> str:
    e = html.escape
    pts = series.points if series else []
    cov = (
        "-"
        if ch.coverage is None
        else f"{ch.coverage:.0%} ({ch.assets_fresh}/{ch.assets_expected})"
    )
    rate = (
        "-" if ch.rows_per_interval is None else f"{ch.rows_per_interval} / {ch.interval_s:.0f} s"
    )
    return (
        f"<tr><td>{e(ch.source)}</td><td>{e(ch.channel)}</td>"
        f'<td><span class="s" style="background:{_COLORS[ch.status]}">{e(ch.status)}</span></td>'
        f"<td>{_time(ch.last_success_ms)}</td><td>{_lag(ch.lag_ms)}</td><td>{rate}</td>"
        f"<td>{cov}</td><td>{ch.errors_total}</td><td>{ch.decode_errors_total}</td>"
        f"<td>{_spark([float(p.rows) if p.rows is not None else None for p in pts], '#0969da')}</td>"
        f"<td>{_spark([float(p.lag_ms) if p.lag_ms is not None else None for p in pts], '#8250df')}</td>"
        f'<td class="err">{e(ch.last_error or "")}</td></tr>'
    )


def render_page(d: Dashboard) -> str:
    series = {(s.source, s.channel): s for s in d.series}
    sources = "".join(
        f'<li>{html.escape(s.source)}: <span class="s" style="background:{_COLORS[s.status]}">'
        f"{html.escape(s.status)}</span></li>"
        for s in d.health.sources
    )
    rows = "".join(
        _row(ch, series.get((ch.source, ch.channel))) for s in d.health.sources for ch in s.channels
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>Clash ingestion</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; color: #1f2328; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 4px 8px; border-bottom: 1px solid #d0d7de; text-align: left; vertical-align: middle; }}
.s {{ color: #fff; border-radius: 3px; padding: 1px 6px; }}
.err {{ color: #cf222e; max-width: 28em; font-size: 12px; }}
ul {{ list-style: none; padding: 0; display: flex; gap: 1.5em; }}
</style></head><body>
<h1>Ingestion <span class="s" style="background:{_COLORS[d.health.status]}">{html.escape(d.health.status)}</span></h1>
<p>As of {_time(d.generated_ms)} UTC; series over the last {d.hours:g} h.</p>
<ul>{sources}</ul>
<table><thead><tr><th>source</th><th>channel</th><th>status</th><th>last success (UTC)</th><th>lag</th>
<th>rows / interval</th><th>coverage</th><th>errors</th><th>decode errors</th><th>volume</th><th>lag</th>
<th>last error</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>"""


routes = [
    Route("/api/v1/ingestion/health", health, methods=["GET"]),
    Route("/api/v1/ingestion/dashboard", dashboard, methods=["GET"]),
    Route("/admin/ingestion", page, methods=["GET"]),
]
