"""Configuration: `config/default.toml` decoded strictly into Structs; secrets only from the environment.

An unknown key or a bad value stops boot with a `ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from clash.logs import LogFormat, LogLevel
from clash.market.config import MarketConfig
from clash.prop.config import PropConfig
from clash.trading.config import TradingConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "default.toml"


class ConfigError(Exception):
    pass


class Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: unknown keys are errors, not silently ignored."""


class SystemConfig(Section):
    env: Literal["development", "production"] = "development"
    data_dir: str = "./var"
    heartbeat_interval_s: float = 5.0
    heartbeat_persist_interval_s: float = 15.0
    shutdown_timeout_s: float = 4.0
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"  # `clash run --log-format text` overrides it


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    dev_identity_header: bool = True


class Config(Section):
    system: SystemConfig = msgspec.field(default_factory=SystemConfig)
    http: HttpConfig = msgspec.field(default_factory=HttpConfig)
    market: MarketConfig = msgspec.field(default_factory=MarketConfig)
    prop: PropConfig = msgspec.field(default_factory=PropConfig)
    trading: TradingConfig = msgspec.field(default_factory=TradingConfig)


class Secrets(msgspec.Struct, frozen=True):
    admin_token: str | None = None
    anthropic_api_key: str | None = None


def load_config(path: str | Path | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Read a TOML file (default: config/default.toml), then `CLASH_PORT` / `CLASH_DATA_DIR` overrides."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        config = msgspec.convert(raw, Config, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return apply_environment(config, environ)


def apply_environment(config: Config, environ: Mapping[str, str]) -> Config:
    http, system = config.http, config.system
    if "CLASH_PORT" in environ:
        try:
            http = msgspec.structs.replace(http, port=int(environ["CLASH_PORT"]))
        except ValueError:
            raise ConfigError(f"CLASH_PORT must be a port number, got {environ['CLASH_PORT']!r}") from None
    if "CLASH_DATA_DIR" in environ:
        system = msgspec.structs.replace(system, data_dir=environ["CLASH_DATA_DIR"])
    return msgspec.structs.replace(config, http=http, system=system)


def load_secrets(environ: Mapping[str, str] = os.environ) -> Secrets:
    return Secrets(
        admin_token=environ.get("CLASH_ADMIN_TOKEN") or None,
        anthropic_api_key=environ.get("ANTHROPIC_API_KEY") or None,
    )


def validate(config: Config, secrets: Secrets) -> None:
    """Checks that span sections; boot calls this before starting anything."""
    if config.system.env == "production":
        if config.http.dev_identity_header:
            raise ConfigError("http.dev_identity_header must be false when system.env = \"production\"")
        if not secrets.admin_token:
            raise ConfigError("CLASH_ADMIN_TOKEN must be set in the environment when system.env = \"production\"")
