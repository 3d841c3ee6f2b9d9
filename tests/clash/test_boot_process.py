"""`clash run`, `clash send`, `clash repl` and `clash db` as a user runs them: real processes, real ports."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clash(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clash.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, **kwargs)


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "CLASH_PORT": str(port), "CLASH_DATA_DIR": str(tmp_path / "var")}
    env.pop("CLASH_ADMIN_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "clash.cli", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"clash run did not come up:\n{proc.communicate()[1]}")
        time.sleep(0.05)
    yield proc, url, port, tmp_path / "var"
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_run_serves_health_and_exits_zero_on_sigterm(server):
    proc, url, _, data_dir = server
    assert httpx.get(f"{url}/api/v1/health").json()["db"] == "ok"
    assert (data_dir / "clash.db").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert "Traceback" not in proc.stderr.read()


def test_run_exits_zero_on_sigint(server):
    proc, *_ = server
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def test_send_drives_a_live_actor_through_http(server):
    _, _, port, data_dir = server
    done = clash("send", "--data-dir", str(data_dir), "--port", str(port),
                 "ops.heartbeats", '{"type": "OpsPing", "note": "from the shell"}')
    assert done.returncode == 0, done.stderr
    assert '"note":"from the shell"' in done.stdout
    refused = clash("send", "--data-dir", str(data_dir), "--port", str(port), "ops.heartbeats", "{nope")
    assert refused.returncode == 2 and "not JSON" in refused.stderr


def test_db_backup_and_check_while_the_server_runs(server, tmp_path):
    _, _, _, data_dir = server
    dest = tmp_path / "backup.db"
    done = clash("db", "backup", "--data-dir", str(data_dir), str(dest))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(dest) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1
    check = clash("db", "check", "--data-dir", str(data_dir))
    assert check.returncode == 0 and "ok" in check.stdout, check.stdout + check.stderr


def test_repl_can_await_a_live_actor(tmp_path):
    script = 'pong = await ask("ops.heartbeats", OpsPing(note="repl"))\nprint("GOT", pong.note, type(pong).__name__)\n'
    done = clash("repl", "--data-dir", str(tmp_path / "var"), input=script)
    assert done.returncode == 0, done.stderr
    assert "GOT repl OpsPong" in done.stdout


def test_a_bad_config_stops_boot_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nprot = 1\n")
    done = clash("run", "--config", str(bad))
    assert done.returncode == 2
    assert "prot" in done.stderr and "Traceback" not in done.stderr
