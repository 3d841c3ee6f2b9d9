"""clash.logs formats records of every logger; clash.datadir keeps a data dir to one process."""

import io
import json
import logging
import os
import subprocess

import pytest

from clash import logs
from clash.config import ConfigError, load_config
from clash.datadir import DataDirInUse, RunInfo, data_dir_lock, read_run_file, run_file


@pytest.fixture
def stream():
    """A stream to configure logging onto; the process's logging is as it was afterwards."""
    out = io.StringIO()
    root = logging.getLogger()
    touched = [root, *(logging.getLogger(name) for name in logs.QUIET_BELOW_DEBUG)]
    levels, handlers = [lg.level for lg in touched], list(root.handlers)
    yield out
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for lg, level in zip(touched, levels, strict=True):
        lg.setLevel(level)
    logging.captureWarnings(False)


def test_json_lines_carry_the_context_passed_as_extra(stream):
    logs.configure("info", "json", stream)
    log = logging.getLogger("clash.prop.accounts")
    log.info(
        "liquidated %s",
        "pa_1",
        extra={"actor": "prop/pa_1", "clone_id": 2, "account_id": "pa_1", "run_id": 17},
    )
    log.debug("not at info")
    try:
        raise ValueError("bad mark")
    except ValueError:
        log.exception("mark failed", extra={"account_id": "pa_1"})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "liquidated pa_1"
    assert (first["level"], first["logger"]) == ("INFO", "clash.prop.accounts")
    assert (first["actor"], first["clone_id"], first["account_id"], first["run_id"]) == (
        "prop/pa_1",
        2,
        "pa_1",
        17,
    )
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: bad mark" in second["exc_info"]
    assert "msg" not in first and "args" not in first  # the record's own attributes stay out


def test_text_is_one_line_per_record_with_the_context_after_the_message(stream):
    logs.configure("debug", "text", stream)
    logging.getLogger("clash.trading.runner").debug("run done", extra={"run_id": 9, "clone_id": 3})
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" DEBUG clash.trading.runner: run done run_id=9 clone_id=3")


def test_the_level_applies_and_chatty_libraries_wait_for_warnings(stream):
    logs.configure("warning", "json", stream)
    logging.getLogger("clash.market").info("quiet")
    logging.getLogger("clash.market").warning("loud")
    logs.configure("info", "json", stream)  # configuring again replaces the handler: no duplicates
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    logging.getLogger("hypercorn.error").info("Running on http://127.0.0.1:1")
    logging.getLogger("hypercorn.error").error("server error")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == [
        "loud",
        "server error",
    ]


def test_bad_level_or_format_is_refused():
    with pytest.raises(ValueError, match="loud"):
        logs.configure("loud")
    with pytest.raises(ValueError, match="xml"):
        logs.configure("info", "xml")


@pytest.mark.parametrize("line", ['log_level = "loud"', 'log_format = "xml"'])
def test_config_names_a_bad_logging_key(tmp_path, line):
    path = tmp_path / "c.toml"
    path.write_text(f"[system]\n{line}\n")
    with pytest.raises(ConfigError, match=r"system\.log_"):
        load_config(path, environ={})


def test_the_shipped_configs_log_json_at_info():
    system = load_config(environ={}).system
    assert (system.log_level, system.log_format) == ("info", "json")


def test_the_data_dir_lock_admits_one_holder_at_a_time(tmp_path):
    with data_dir_lock(tmp_path / "var") as path:
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(DataDirInUse, match=f"pid {os.getpid()}") as refused:
            with data_dir_lock(tmp_path / "var"):
                pass
        assert refused.value.pid == os.getpid()
    with data_dir_lock(tmp_path / "var"):  # released on exit
        pass


def test_a_run_file_with_a_dead_pid_is_ignored(tmp_path):
    live = RunInfo(pid=os.getpid(), host="0.0.0.0", port=8123)
    with run_file(tmp_path, live) as path:
        assert read_run_file(tmp_path) == live
        assert json.loads(path.read_text())["url"] == "http://127.0.0.1:8123"
    assert read_run_file(tmp_path) is None and not path.exists()

    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "clash.run").write_text(
        json.dumps({"pid": gone.pid, "host": "127.0.0.1", "port": 1})
    )
    assert read_run_file(tmp_path) is None
    (tmp_path / "clash.run").write_text("{half")
    assert read_run_file(tmp_path) is None


def test_a_message_in_extra_is_logged_as_its_json(stream):
    from clash.ops.messages import OpsPing

    logs.configure("info", "json", stream)
    logging.getLogger("actors.system").warning(
        "dead letter", extra={"actor": "ops.heartbeats", "letter": OpsPing(note="lost")}
    )
    record = json.loads(stream.getvalue())
    assert record["letter"] == {"type": "OpsPing", "note": "lost"}
