"""The `clash` command: run | repl | send | db migrate|check|backup | auth dev-login | ingest (from
clash.market)."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from pathlib import Path

import anyio
import httpx
import msgspec

from actors import LiveClock
from clash import logs
from clash.config import DEFAULT_CONFIG, Config, ConfigError, load_config, load_secrets
from clash.datadir import RUN_FILE, DataDirInUse, connect_url, read_run_file

log = logging.getLogger(__name__)


def say(text: str) -> None:
    """A line for the person at the terminal (stderr, so stdout stays the command's answer)."""
    sys.stderr.write(text + "\n")


def config_from(args: argparse.Namespace) -> Config:
    """The config with the command line's overrides; also sets up logging from it."""
    config = load_config(args.config)
    if getattr(args, "port", None) is not None:
        config = msgspec.structs.replace(
            config, http=msgspec.structs.replace(config.http, port=args.port)
        )
    if getattr(args, "data_dir", None) is not None:
        config = msgspec.structs.replace(
            config, system=msgspec.structs.replace(config.system, data_dir=args.data_dir)
        )
    logs.configure(
        config.system.log_level, getattr(args, "log_format", None) or config.system.log_format
    )
    return config


def config_path(args: argparse.Namespace) -> str:
    return str(Path(args.config).resolve() if args.config else DEFAULT_CONFIG)


def cmd_run(args: argparse.Namespace) -> int:
    from clash.system import run

    config = config_from(args)
    return anyio.run(
        functools.partial(run, config, load_secrets(), config_path=config_path(args)),
        backend="asyncio",
    )


def cmd_repl(args: argparse.Namespace) -> int:
    from clash.repl import RemoteError, repl, repl_connect

    config = config_from(args)
    if args.connect is None:
        return anyio.run(
            functools.partial(repl, config, load_secrets(), config_path=config_path(args)),
            backend="asyncio",
        )
    token = admin_token(config, "clash repl")
    if token is None:
        return 2
    url = args.connect or server_url(config, None, "clash repl")
    try:
        return anyio.run(repl_connect, url, token, backend="asyncio")
    except (RemoteError, httpx.HTTPError) as exc:
        say(f"clash repl: {url} refused or did not answer: {exc}")
        return 1


def admin_token(config: Config, command: str) -> str | None:
    """`CLASH_ADMIN_TOKEN`, else the development token in the data dir; says which one it used."""
    token = os.environ.get("CLASH_ADMIN_TOKEN")
    if token:
        say(f"{command}: admin token from CLASH_ADMIN_TOKEN")
        return token
    path = Path(config.system.data_dir).resolve() / "admin.token"
    if path.exists():
        say(f"{command}: admin token from {path}")
        return path.read_text().strip()
    say(
        f"{command}: no admin token: set CLASH_ADMIN_TOKEN (or run the server once in development, "
        f"which writes {path})"
    )
    return None


def server_url(config: Config, port: int | None, command: str) -> str:
    """`--port`, else the running server's `clash.run` in the data dir, else the config."""
    if port is not None:
        return connect_url(config.http.host, port)
    data_dir = Path(config.system.data_dir).resolve()
    info = read_run_file(data_dir)
    if info is not None:
        say(f"{command}: server {info.url} (pid {info.pid}, from {data_dir / RUN_FILE})")
        return info.url
    url = connect_url(config.http.host, config.http.port)
    say(f"{command}: no running server announced in {data_dir / RUN_FILE}; trying {url}")
    return url


def cmd_send(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        message = msgspec.json.decode(args.message)
    except msgspec.DecodeError as exc:
        say(f"clash send: the message is not JSON: {exc}")
        return 2
    token = admin_token(config, "clash send")
    if token is None:
        return 2
    url = (args.url or server_url(config, args.port, "clash send")).rstrip("/")
    try:
        response = httpx.post(
            f"{url}/api/v1/admin/messages",
            json={"to": args.actor, "message": message},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        say(f"clash send: {url} did not answer: {exc}")
        return 1
    sys.stdout.write(response.text + "\n")
    return 0 if response.is_success else 1


def cmd_dev_login(args: argparse.Namespace) -> int:
    from clash.auth import DevLoginError, dev_key, dev_login

    config = config_from(args)
    if config.system.env == "production":
        say("clash auth dev-login: refused: it signs in with throwaway keys (development only)")
        return 2
    try:
        key = dev_key(args.key or os.environ.get("CLASH_DEV_KEY") or None)
        if args.address and args.address.lower() != key.address.lower():
            if args.key:
                say(f"clash auth dev-login: the key is {key.address}'s, not {args.address}'s")
                return 2
            say(f"clash auth dev-login: no key for {args.address}; signing in with a fresh one")
        url = (args.url or server_url(config, args.port, "clash auth dev-login")).rstrip("/")
        login = anyio.run(dev_login, url, key, args.chain_id, backend="asyncio")
    except (DevLoginError, httpx.HTTPError) as exc:
        say(f"clash auth dev-login: {exc}")
        return 1
    say(f"clash auth dev-login: signed in as {login.address} (user {login.user_id})")
    sys.stdout.write(msgspec.json.encode(login).decode() + "\n")
    return 0


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
    out = sys.stdout
    try:
        if args.db_command == "migrate":
            out.write(f"clash db: {db.path} is migrated\n")
        elif args.db_command == "check":
            register_checks(db, modules)
            report = await db.check()
            for problem in report.problems:
                out.write(f"problem: {problem}\n")
            out.write(
                "clash db check: ok\n"
                if report.ok
                else f"clash db check: {len(report.problems)} problem(s)\n"
            )
            return 0 if report.ok else 1
        elif args.db_command == "backup":
            dest = await db.backup(args.path)
            out.write(f"clash db: backed up {db.path} to {dest}\n")
    finally:
        await db.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clash", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="a TOML config file (default: config/default.toml)")
    common.add_argument(
        "--data-dir", help="where the database and artifacts live (env CLASH_DATA_DIR)"
    )
    common.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="logs on stderr: json lines or text for people (default: system.log_format)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", parents=[common], help="boot everything and serve HTTP until Ctrl-C"
    )
    run.add_argument("--port", type=int, help="HTTP port (env CLASH_PORT, default 8080)")
    run.set_defaults(handler=cmd_run)

    repl = sub.add_parser(
        "repl",
        parents=[common],
        help="boot in-process and open an async REPL (or --connect to a running server)",
    )
    repl.add_argument(
        "--connect",
        nargs="?",
        const="",
        metavar="URL",
        help="drive a running server instead (default: the one announced in the data dir)",
    )
    repl.set_defaults(handler=cmd_repl)

    send = sub.add_parser(
        "send", parents=[common], help="send a typed message to an actor of a running server"
    )
    send.add_argument("actor")
    send.add_argument("message", help='tagged JSON, e.g. \'{"type": "OpsPing", "note": "hi"}\'')
    send.add_argument("--port", type=int, help="the server's port (default: the running server's)")
    send.add_argument("--url", help="the server's base URL (default: the running server's)")
    send.set_defaults(handler=cmd_send)

    auth = sub.add_parser("auth", help="sign-in helpers for development")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    login = auth_sub.add_parser(
        "dev-login",
        parents=[common],
        help="sign in to a running development server with a throwaway key; prints the tokens",
    )
    login.add_argument(
        "address", nargs="?", help="the wallet to sign in as (its key: --key or CLASH_DEV_KEY)"
    )
    login.add_argument("--key", help="the private key to sign with (default: a fresh one)")
    login.add_argument("--chain-id", type=int, help="the chain to bind the sign-in to")
    login.add_argument("--port", type=int, help="the server's port (default: the running server's)")
    login.add_argument("--url", help="the server's base URL (default: the running server's)")
    login.set_defaults(handler=cmd_dev_login)

    db = sub.add_parser("db", help="the database: migrate, check, backup")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", parents=[common]).set_defaults(handler=cmd_db)
    db_sub.add_parser("check", parents=[common]).set_defaults(handler=cmd_db)
    backup = db_sub.add_parser("backup", parents=[common])
    backup.add_argument("path")
    backup.set_defaults(handler=cmd_db)

    try:
        from clash.market import add_ingest_commands
    except ImportError:
        pass
    else:
        add_ingest_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.configure("info", getattr(args, "log_format", None) or "json")
    try:
        return args.handler(args)
    except ConfigError as exc:
        say(f"clash: bad configuration: {exc}")
        return 2
    except DataDirInUse as exc:
        say(f"clash: {exc}. Stop it, use another --data-dir, or drive it: `clash repl --connect`.")
        return 1
    except KeyboardInterrupt:
        return 0
    except Exception:
        log.exception("clash %s failed", args.command)
        return 1


if __name__ == "__main__":
    sys.exit(main())
