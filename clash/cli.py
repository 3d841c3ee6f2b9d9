"""The `clash` command: run | repl | send | db migrate|check|backup (| ingest ... from clash.market)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import anyio
import httpx
import msgspec

from actors import LiveClock
from clash.config import Config, ConfigError, load_config, load_secrets


def config_from(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if getattr(args, "port", None) is not None:
        config = msgspec.structs.replace(config, http=msgspec.structs.replace(config.http, port=args.port))
    if getattr(args, "data_dir", None) is not None:
        config = msgspec.structs.replace(
            config, system=msgspec.structs.replace(config.system, data_dir=args.data_dir)
        )
    return config


def cmd_run(args: argparse.Namespace) -> int:
    from clash.system import run

    return anyio.run(run, config_from(args), load_secrets(), backend="asyncio")


def cmd_repl(args: argparse.Namespace) -> int:
    from clash.repl import repl

    return anyio.run(repl, config_from(args), load_secrets(), backend="asyncio")


def cmd_send(args: argparse.Namespace) -> int:
    config = config_from(args)
    token = os.environ.get("CLASH_ADMIN_TOKEN")
    token_file = Path(config.system.data_dir) / "admin.token"
    if not token and token_file.exists():
        token = token_file.read_text().strip()
    if not token:
        print("clash send: set CLASH_ADMIN_TOKEN (or run the server once in development)", file=sys.stderr)
        return 2
    try:
        message = msgspec.json.decode(args.message)
    except msgspec.DecodeError as exc:
        print(f"clash send: the message is not JSON: {exc}", file=sys.stderr)
        return 2
    url = args.url or f"http://{config.http.host}:{config.http.port}"
    try:
        response = httpx.post(
            f"{url}/api/v1/admin/messages",
            json={"to": args.actor, "message": message},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        print(f"clash send: {url} did not answer: {exc}", file=sys.stderr)
        return 1
    print(response.text)
    return 0 if response.is_success else 1


def _db_modules():
    from clash.runtime import product_modules

    return product_modules()


def cmd_db(args: argparse.Namespace) -> int:
    return anyio.run(_db, args, backend="asyncio")


async def _db(args: argparse.Namespace) -> int:
    from clash.runtime import open_database, register_checks

    config = config_from(args)
    modules = _db_modules()
    db = await open_database(config, LiveClock(), modules)
    try:
        if args.db_command == "migrate":
            print(f"clash db: {db.path} is migrated")
        elif args.db_command == "check":
            register_checks(db, modules)
            report = await db.check()
            for problem in report.problems:
                print(f"problem: {problem}")
            print("clash db check: ok" if report.ok else f"clash db check: {len(report.problems)} problem(s)")
            return 0 if report.ok else 1
        elif args.db_command == "backup":
            dest = await db.backup(args.path)
            print(f"clash db: backed up {db.path} to {dest}")
    finally:
        await db.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clash", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="a TOML config file (default: config/default.toml)")
    common.add_argument("--data-dir", help="where the database and artifacts live (env CLASH_DATA_DIR)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="boot everything and serve HTTP until Ctrl-C")
    run.add_argument("--port", type=int, help="HTTP port (env CLASH_PORT, default 8080)")
    run.set_defaults(handler=cmd_run)

    repl = sub.add_parser("repl", parents=[common], help="boot in-process and open an async REPL")
    repl.set_defaults(handler=cmd_repl)

    send = sub.add_parser("send", parents=[common], help="send a typed message to an actor of a running server")
    send.add_argument("actor")
    send.add_argument("message", help='tagged JSON, e.g. \'{"type": "OpsPing", "note": "hi"}\'')
    send.add_argument("--port", type=int)
    send.add_argument("--url", help="the server's base URL (default from the config)")
    send.set_defaults(handler=cmd_send)

    db = sub.add_parser("db", help="the database: migrate, check, backup")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", parents=[common]).set_defaults(handler=cmd_db)
    db_sub.add_parser("check", parents=[common]).set_defaults(handler=cmd_db)
    backup = db_sub.add_parser("backup", parents=[common])
    backup.add_argument("path")
    backup.set_defaults(handler=cmd_db)

    try:
        from clash.market.cli import add_ingest_commands
    except ImportError:
        pass
    else:
        add_ingest_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"clash: bad configuration: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
