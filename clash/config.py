"""Configuration: `config/default.toml` decoded strictly into Structs; secrets only from the environment.

An unknown key or a bad value stops boot with a `ConfigError` naming the key
(`$.prop.limits.max_leverage`). Numbers are bounded where they are declared: ints and floats with
`msgspec.Meta(gt=, ge=, le=, lt=)`, which msgspec checks while decoding; Decimals (msgspec bounds
only ints and floats) with the same keys in `Meta(extra={...})`, checked by `load_config` after
decoding. No float or Decimal in the config may be NaN or infinite, bounded or not.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from clash.auth import AuthConfig
from clash.logs import LogFormat, LogLevel
from clash.market import MarketConfig
from clash.prop import PropConfig
from clash.trading import TradingConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "default.toml"


class ConfigError(Exception):
    pass


class Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: unknown keys are errors, not silently ignored."""


class SystemConfig(Section):
    env: Literal["development", "production"] = "development"
    data_dir: str = "./var"
    heartbeat_interval_s: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    heartbeat_persist_interval_s: Annotated[float, Meta(gt=0, le=86_400)] = 15.0
    shutdown_timeout_s: Annotated[float, Meta(gt=0, le=600)] = 4.0
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"  # `clash run --log-format text` overrides it


class HttpConfig(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65_535)] = 8080
    dev_identity_header: bool = True
    max_body_bytes: Annotated[int, Meta(ge=1024, le=64 * 2**20)] = 2**20
    """A request body over this is refused with 413 `body_too_large` while it is read."""


class Config(Section):
    system: SystemConfig = msgspec.field(default_factory=SystemConfig)
    http: HttpConfig = msgspec.field(default_factory=HttpConfig)
    market: MarketConfig = msgspec.field(default_factory=MarketConfig)
    prop: PropConfig = msgspec.field(default_factory=PropConfig)
    trading: TradingConfig = msgspec.field(default_factory=TradingConfig)
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)


class Secrets(msgspec.Struct, frozen=True):
    admin_token: str | None = None
    anthropic_api_key: str | None = None
    jwt_secret: str | None = None
    """`CLASH_JWT_SECRET`: signs access tokens (development generates one into the data dir)."""


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
    problem = check_numbers(config)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return apply_environment(config, environ)


_BOUNDS = {
    "gt": (lambda v, b: v > b, ">"),
    "ge": (lambda v, b: v >= b, ">="),
    "lt": (lambda v, b: v < b, "<"),
    "le": (lambda v, b: v <= b, "<="),
}


def _bounds(field_type: Any) -> dict[str, Any]:
    """The `Meta(extra={...})` bounds of a field's type (Decimal fields declare them there)."""
    if isinstance(field_type, msgspec.inspect.Metadata):
        return {k: v for k, v in (field_type.extra or {}).items() if k in _BOUNDS}
    return {}


def check_numbers(value: Any, path: str = "$", field_type: Any = None) -> str | None:
    """The first float or Decimal in a decoded config that is not finite or breaks its declared
    bounds, as a message naming its path; None when every number is fine."""
    if isinstance(value, msgspec.Struct):
        info = msgspec.inspect.type_info(type(value))
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            item = getattr(value, field.name)
            problem = check_numbers(item, f"{path}.{field.encode_name}", field.type)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if problem := check_numbers(item, f"{path}[{i}]"):
                return problem
        return None
    if isinstance(value, bool) or not isinstance(value, (float, Decimal)):
        return None
    kind = "float" if isinstance(value, float) else "decimal"
    if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
        return f"Expected a finite `{kind}`, got {value} - at `{path}`"
    for key, bound in _bounds(field_type).items():
        holds, sign = _BOUNDS[key]
        if not holds(value, Decimal(str(bound))):
            return f"Expected `{kind}` {sign} {bound}, got {value} - at `{path}`"
    return None


def apply_environment(config: Config, environ: Mapping[str, str]) -> Config:
    http, system = config.http, config.system
    if "CLASH_PORT" in environ:
        try:
            http = msgspec.structs.replace(http, port=int(environ["CLASH_PORT"]))
        except ValueError:
            raise ConfigError(
                f"CLASH_PORT must be a port number, got {environ['CLASH_PORT']!r}"
            ) from None
    if "CLASH_DATA_DIR" in environ:
        system = msgspec.structs.replace(system, data_dir=environ["CLASH_DATA_DIR"])
    return msgspec.structs.replace(config, http=http, system=system)


def load_secrets(environ: Mapping[str, str] = os.environ) -> Secrets:
    return Secrets(
        admin_token=environ.get("CLASH_ADMIN_TOKEN") or None,
        anthropic_api_key=environ.get("ANTHROPIC_API_KEY") or None,
        jwt_secret=environ.get("CLASH_JWT_SECRET") or None,
    )


def validate(config: Config, secrets: Secrets) -> None:
    """Checks that span sections; boot calls this before starting anything."""
    if config.system.env == "production":
        if config.http.dev_identity_header:
            raise ConfigError(
                'http.dev_identity_header must be false when system.env = "production"'
            )
        if not secrets.admin_token:
            raise ConfigError(
                'CLASH_ADMIN_TOKEN must be set in the environment when system.env = "production"'
            )
        if not secrets.jwt_secret:
            raise ConfigError(
                'CLASH_JWT_SECRET must be set in the environment when system.env = "production"'
            )
