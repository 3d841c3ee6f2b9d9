"""Boot the whole product: the supervised actor tree, the store and the HTTP server in one task group."""

from __future__ import annotations

import secrets as token_source
import sys
from pathlib import Path

from actors import Clock, LiveClock
from clash.config import Config, Secrets
from clash.http.app import create_app
from clash.http.server import Server, listen
from clash.runtime import Runtime, boot


def development_admin_token(config: Config, secrets: Secrets) -> Secrets:
    """Outside production, make an admin token if none is set and leave it in the data dir for `clash send`."""
    if secrets.admin_token or config.system.env == "production":
        return secrets
    path = Path(config.system.data_dir) / "admin.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(token_source.token_urlsafe(32))
        path.chmod(0o600)
    return Secrets(admin_token=path.read_text().strip(), anthropic_api_key=secrets.anthropic_api_key)


def serve_runtime(rt: Runtime) -> Server:
    """Start the HTTP server for `rt` in its system's task group."""
    server = Server(create_app(rt), listen(rt.config.http.host, rt.config.http.port))
    rt.system.start_soon(server.serve, name="http")
    return server


async def run(config: Config, secrets: Secrets, clock: Clock | None = None) -> int:
    """`clash run`: serve until SIGINT or SIGTERM, then stop every actor and exit 0."""
    secrets = development_admin_token(config, secrets)
    async with boot(config, secrets, clock or LiveClock()) as rt:
        server = serve_runtime(rt)
        print(f"clash: serving on http://{config.http.host}:{server.port} (data in {config.system.data_dir})",
              file=sys.stderr, flush=True)
        signum = await rt.system.wait_for_signal()
        print(f"clash: signal {signum}, shutting down", file=sys.stderr, flush=True)
        await server.stop()
    return 0
