"""Boot the whole product: the supervised actor tree, the store and the HTTP server in one task
group, on a data dir this process holds."""

from __future__ import annotations

import logging
import os
import secrets as token_source
import signal
from pathlib import Path

import msgspec

from actors import Clock, LiveClock
from clash.config import Config, Secrets
from clash.datadir import RunInfo, data_dir_lock, run_file
from clash.http import Server, create_app, listen
from clash.runtime import Runtime, boot

log = logging.getLogger(__name__)


def development_admin_token(config: Config, secrets: Secrets) -> Secrets:
    """Outside production, make an admin token if none is set; it stays in the data dir for
    `clash send`."""
    if secrets.admin_token or config.system.env == "production":
        return secrets
    path = Path(config.system.data_dir) / "admin.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(token_source.token_urlsafe(32))
        path.chmod(0o600)
        log.info("wrote a development admin token to %s", path, extra={"token_file": str(path)})
    return msgspec.structs.replace(secrets, admin_token=path.read_text().strip())


def serve_runtime(rt: Runtime) -> Server:
    """Start the HTTP server for `rt` in its system's task group."""
    server = Server(create_app(rt), listen(rt.config.http.host, rt.config.http.port))
    rt.system.start_soon(server.serve, name="http")
    return server


def log_boot(config: Config, config_path: str | None, command: str) -> None:
    data_dir = str(Path(config.system.data_dir).resolve())
    context = {
        "command": command,
        "config_path": config_path,
        "data_dir": data_dir,
        "env": config.system.env,
        "pid": os.getpid(),
    }
    log.info("booting: config %s, data in %s", config_path, data_dir, extra=context)


async def run(
    config: Config, secrets: Secrets, clock: Clock | None = None, config_path: str | None = None
) -> int:
    """`clash run`: serve until SIGINT or SIGTERM, then stop every actor and exit 0.

    Holds the data dir's lock throughout (`DataDirInUse` if another process has it) and announces
    the listening address in `<data_dir>/clash.run` for `clash send` and `clash repl --connect`.
    """
    clock = clock or LiveClock()
    data_dir = Path(config.system.data_dir)
    with data_dir_lock(data_dir):
        log_boot(config, config_path, "run")
        secrets = development_admin_token(config, secrets)
        async with boot(config, secrets, clock) as rt:
            server = serve_runtime(rt)
            info = RunInfo(pid=os.getpid(), host=config.http.host, port=server.port)
            with run_file(data_dir, info):
                context = {"url": info.url, "host": config.http.host, "port": server.port}
                log.info("listening on %s", info.url, extra=context)
                signum = await rt.system.wait_for_signal()
                reason = signal.Signals(signum).name
                started = clock.now_ms()
                log.info("shutting down on %s", reason, extra={"reason": reason})
                await server.stop()
        took = clock.now_ms() - started
        log.info(
            "stopped on %s in %d ms", reason, took, extra={"reason": reason, "shutdown_ms": took}
        )
    return 0
