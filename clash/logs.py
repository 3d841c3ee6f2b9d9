"""Process-wide logging: stdlib `logging`, one JSON object per line on stderr, or text for people.

Library code only does `log = logging.getLogger(__name__)` and passes context as `extra`
(`log.info("restarted", extra={"actor": name, "clone_id": 2})`); every key of `extra` becomes a
field of the JSON record (or a `key=value` suffix in text). The CLI calls `configure` once.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import msgspec
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonEncoder, JsonFormatter

LogFormat = Literal["json", "text"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
FORMATS: tuple[LogFormat, ...] = ("json", "text")

# Attributes every LogRecord has; whatever else a record carries came from `extra`.
STANDARD_ATTRS = frozenset([*RESERVED_ATTRS, "taskName"])
QUIET_BELOW_DEBUG = ("hypercorn.error", "httpx", "httpcore")


class _Encoder(JsonEncoder):
    """Messages and other Structs passed in `extra` become JSON objects, not their repr."""

    def default(self, o: Any) -> Any:
        if isinstance(o, msgspec.Struct):
            return msgspec.to_builtins(o)
        return super().default(o)


class JsonLines(JsonFormatter):
    """`{"time": "2026-12-06T03:55:07.123+00:00", "level": "INFO", "logger": "clash.system",
    "message": "listening on http://127.0.0.1:8080", "url": "http://127.0.0.1:8080"}`"""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=sorted(STANDARD_ATTRS),
            json_encoder=_Encoder,
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)


class TextFormatter(logging.Formatter):
    """`2026-12-06 03:55:07.123 INFO clash.system: listening on http://127.0.0.1:8080 url=...`"""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
        )
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{key}={value}" for key, value in record.__dict__.items() if key not in STANDARD_ATTRS
        )
        if not context:
            return line
        head, sep, rest = line.partition("\n")  # keep a traceback below the context
        return f"{head} {context}{sep}{rest}"


class _Handler(logging.StreamHandler):
    """Ours, so `configure` can replace it without touching handlers someone else installed."""


def configure(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Install one handler on the root logger; calling it again replaces it."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(numeric)
    # Libraries that log at INFO per request (httpx) or per server started (hypercorn's "Running
    # on", the simulator's too: our own "listening on" record names the API) speak up from WARNING,
    # or at debug.
    quiet = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
