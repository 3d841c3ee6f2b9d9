"""`clash ingest backfill|run-once` against the in-process simulator."""

from __future__ import annotations

import argparse
import sqlite3

from clash.market.cli import ProgressBar, add_ingest_commands


def parse(argv):
    parser = argparse.ArgumentParser(prog="clash")
    add_ingest_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_backfill_and_run_once(tmp_path, capsys) -> None:
    config = tmp_path / "clash.toml"
    config.write_text(
        f'[system]\ndata_dir = "{tmp_path / "var"}"\n'
        '[market]\nsource = "sim"\n'
        '[market.hyperliquid]\nassets = ["BTC", "ETH"]\n'
    )
    args = parse(
        ["ingest", "backfill", "--config", str(config), "--days", "0.1", "--assets", "ETH"]
    )
    assert args.handler(args) == 0
    out = capsys.readouterr()
    assert "hyperliquid candles_1m: 144 rows" in out.out and "ETH" in out.err

    args = parse(["ingest", "run-once", "--config", str(config), "--source", "all"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    for line in (
        "hyperliquid registry:",
        "hyperliquid funding: 2 rows",
        "polymarket markets:",
        "defillama macro:",
    ):
        assert line in out

    db = sqlite3.connect(tmp_path / "var" / "clash.db")
    counts = dict(db.execute("SELECT symbol, count(*) FROM candles_1m GROUP BY symbol").fetchall())
    assert counts["ETH"] >= 144 and counts["BTC"] == 120  # BTC only got the boot window
    db.close()


def test_progress_bar_draws_in_place(capsys) -> None:
    bar = ProgressBar(width=10)
    bar("BTC", 5, 10)
    bar("BTC", 10, 10)
    bar("ETH", 1, 2)
    bar.close()
    err = capsys.readouterr().err
    assert "\r  BTC          [#####-----]      5/10" in err and err.endswith(
        "[#####-----]      1/2\n"
    )


def test_live_config_points_the_same_clients_at_the_public_endpoints() -> None:
    from clash.config import ROOT, load_config
    from clash.market.module import live_endpoints

    config = load_config(ROOT / "config" / "live.toml", environ={})
    assert config.market.source == "live"
    ends = live_endpoints(config.market)
    assert ends.hyperliquid_rest == "https://api.hyperliquid.xyz"
    assert ends.hyperliquid_ws == "wss://api.hyperliquid.xyz/ws"
    assert ends.polymarket == "https://gamma-api.polymarket.com"
    assert (ends.defillama_api, ends.defillama_stablecoins) == (
        "https://api.llama.fi",
        "https://stablecoins.llama.fi",
    )
