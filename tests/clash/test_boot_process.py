"""`clash run`, `send`, `repl` and `db` as a user runs them: real processes, real ports."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any CLASH_* setting of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASH_")}
    return {**env, **extra}


def clash(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, **kwargs
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clash.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or clean_env(),
        **kwargs,
    )


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    port: int
    data_dir: Path
    log: Path

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


def start_server(home: Path, *args: str, port: int | None = None) -> Served:
    """`clash run` started in `home` on its default data dir (`./var`), logging to `clash.log`."""
    port = port or free_port()
    log = home / "clash.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clash.cli", "run", *args],
            cwd=home,
            env=clean_env(CLASH_PORT=str(port)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
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
            proc.wait()
            raise AssertionError(f"clash run did not come up:\n{log.read_text()}")
        time.sleep(0.05)
    return Served(proc, url, port, home / "var", log)


def stop(served: Served) -> None:
    if served.proc.poll() is None:
        served.proc.kill()
        served.proc.wait()


@pytest.fixture
def server(tmp_path):
    served = start_server(tmp_path)
    yield served
    stop(served)


def test_run_serves_health_and_exits_zero_on_sigterm(server):
    assert httpx.get(f"{server.url}/api/v1/health").json()["db"] == "ok"
    assert (server.data_dir / "clash.db").exists()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    assert "Traceback" not in server.log.read_text()


def test_run_exits_zero_on_sigint(server):
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=10) == 0


def test_run_logs_json_lines_from_boot_to_shutdown(server):
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    records = server.records()  # every line parses as JSON
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)

    boot = next(r for r in records if r["message"].startswith("booting"))
    assert boot["config_path"] == str(ROOT / "config" / "default.toml")
    assert boot["data_dir"] == str(server.data_dir.resolve())
    started = next(r for r in records if r["message"].startswith("modules started"))
    assert {"ops", "market", "prop", "trading"} <= set(started["modules"])

    listening = [r for r in records if "listening on" in r["message"]]
    assert len(listening) == 1, (
        listening
    )  # the simulator's port is logged, not announced as the API
    assert (
        listening[0]["message"] == f"listening on {server.url}"
        and listening[0]["port"] == server.port
    )
    assert not any("Running on" in r["message"] for r in records)
    sim = next(
        r for r in records if r["logger"] == "clash.market.module" and "simulator" in r["message"]
    )
    assert sim["url"] != server.url

    stopped = records[-1]
    assert stopped["message"].startswith("stopped on SIGTERM")
    assert stopped["reason"] == "SIGTERM" and stopped["shutdown_ms"] >= 0


def test_log_format_text_is_for_people(tmp_path):
    served = start_server(tmp_path, "--log-format", "text")
    try:
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=10) == 0
    finally:
        stop(served)
    lines = served.log.read_text().splitlines()
    assert lines and not any(line.startswith("{") for line in lines)
    listening = [line for line in lines if "listening on" in line]
    assert len(listening) == 1
    assert f"INFO clash.system: listening on {served.url} " in listening[0]


def test_a_second_process_on_the_data_dir_is_refused_naming_the_holder(server):
    pid = str(server.proc.pid)
    assert (server.data_dir / "clash.lock").read_text().strip() == pid
    for command in (["run"], ["repl"]):
        refused = clash(
            *command, cwd=server.log.parent, env=clean_env(CLASH_PORT=str(free_port())), input=""
        )
        assert refused.returncode == 1, refused.stderr
        assert f"pid {pid}" in refused.stderr and "Traceback" not in refused.stderr
    assert httpx.get(f"{server.url}/api/v1/health").status_code == 200


def test_the_lock_and_the_run_file_die_with_the_process(server, tmp_path):
    run_file = server.data_dir / "clash.run"
    assert json.loads(run_file.read_text()) == {
        "pid": server.proc.pid,
        "host": "127.0.0.1",
        "port": server.port,
        "url": server.url,
    }
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    assert run_file.exists()  # nothing ran to remove it: it is stale now

    closed = free_port()
    lost = clash(
        "send",
        "ops.heartbeats",
        '{"type": "OpsPing"}',
        cwd=tmp_path,
        env=clean_env(CLASH_PORT=str(closed)),
    )
    assert "no running server announced" in lost.stderr and f"127.0.0.1:{closed}" in lost.stderr
    assert lost.returncode == 1

    again = start_server(tmp_path)  # the kill -9 left no lock behind
    try:
        assert json.loads(run_file.read_text())["pid"] == again.proc.pid
        again.proc.send_signal(signal.SIGTERM)
        assert again.proc.wait(timeout=10) == 0
    finally:
        stop(again)
    assert not run_file.exists()


def test_send_drives_a_live_actor_through_http(server):
    done = clash(
        "send",
        "--data-dir",
        str(server.data_dir),
        "--port",
        str(server.port),
        "ops.heartbeats",
        '{"type": "OpsPing", "note": "from the shell"}',
    )
    assert done.returncode == 0, done.stderr
    assert '"note":"from the shell"' in done.stdout
    refused = clash(
        "send",
        "--data-dir",
        str(server.data_dir),
        "--port",
        str(server.port),
        "ops.heartbeats",
        "{nope",
    )
    assert refused.returncode == 2 and "not JSON" in refused.stderr


def test_send_finds_the_running_server_and_says_which_token_it_read(server):
    done = clash(
        "send", "ops.heartbeats", '{"type": "OpsPing", "note": "no flags"}', cwd=server.log.parent
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reply"]["note"] == "no flags"
    token_file = server.data_dir.resolve() / "admin.token"
    assert f"admin token from {token_file}" in done.stderr
    assert f"server {server.url} (pid {server.proc.pid}" in done.stderr

    from_env = clash(
        "send",
        "ops.heartbeats",
        '{"type": "OpsPing"}',
        cwd=server.log.parent,
        env=clean_env(CLASH_ADMIN_TOKEN="not-the-token"),
    )
    assert "admin token from CLASH_ADMIN_TOKEN" in from_env.stderr
    assert from_env.returncode == 1 and "bad_admin_token" in from_env.stdout


def test_repl_connect_drives_the_running_server(server):
    script = (
        'pong = await ask("ops.heartbeats", OpsPing(note="over http"))\n'
        'print("GOT", pong.note, type(pong).__name__)\n'
        'print("ACTORS", "ops.heartbeats" in actors())\n'
        'await tell("ops.heartbeats", OpsPing(note="told"))\n'
    )
    done = clash("repl", "--connect", cwd=server.log.parent, input=script)
    assert done.returncode == 0, done.stderr
    assert "GOT over http OpsPong" in done.stdout and "ACTORS True" in done.stdout
    assert f"connected to {server.url}" in done.stderr
    with sqlite3.connect(
        server.data_dir / "clash.db"
    ) as conn:  # the server's own audit of the route
        notes = [
            json.loads(m)["note"]
            for (m,) in conn.execute(
                "SELECT message_json FROM admin_messages WHERE actor = 'ops.heartbeats' ORDER BY id"
            )
        ]
    assert notes == ["over http", "told"]

    explicit = clash(
        "repl",
        "--connect",
        server.url,
        "--data-dir",
        str(server.data_dir),
        input='print("ACTORS", len(actors()) > 1)\n',
    )
    assert explicit.returncode == 0 and "ACTORS True" in explicit.stdout, explicit.stderr

    wrong = clash(
        "repl", "--connect", server.url, env=clean_env(CLASH_ADMIN_TOKEN="nope"), input=""
    )
    assert wrong.returncode == 1 and "401" in wrong.stderr


def test_db_backup_and_check_while_the_server_runs(server, tmp_path):
    dest = tmp_path / "backup.db"
    done = clash("db", "backup", "--data-dir", str(server.data_dir), str(dest))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(dest) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1
    check = clash("db", "check", "--data-dir", str(server.data_dir))
    assert check.returncode == 0 and "ok" in check.stdout, check.stdout + check.stderr


def test_repl_can_await_a_live_actor(tmp_path):
    script = (
        'pong = await ask("ops.heartbeats", OpsPing(note="repl"))\n'
        'print("GOT", pong.note, type(pong).__name__)\n'
    )
    done = clash("repl", "--data-dir", str(tmp_path / "var"), input=script)
    assert done.returncode == 0, done.stderr
    assert "GOT repl OpsPong" in done.stdout
    assert not (tmp_path / "var" / "clash.run").exists()  # only a server announces itself


def test_a_bad_config_stops_boot_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nprot = 1\n")
    done = clash("run", "--config", str(bad))
    assert done.returncode == 2
    assert "prot" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_log_level_stops_boot_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[system]\nlog_level = "loud"\n')
    done = clash("run", "--config", str(bad), "--data-dir", str(tmp_path / "var"))
    assert done.returncode == 2
    assert "system.log_level" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()
