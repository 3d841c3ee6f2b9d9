from pathlib import Path

import pytest

from clash.config import ConfigError, Secrets, load_config, validate


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_the_default_config_runs_offline_on_the_simulator():
    config = load_config(environ={})
    assert config.market.source == "sim"
    assert config.http.port == 8080
    assert config.system.data_dir == "./var"


def test_an_unknown_key_stops_boot_naming_it(tmp_path):
    path = write(tmp_path, "[http]\nport = 1\nprot = 2\n")
    with pytest.raises(ConfigError, match=r"unknown field `prot`.*\$\.http"):
        load_config(path, environ={})


def test_a_bad_value_stops_boot_naming_the_key(tmp_path):
    path = write(tmp_path, '[system]\nenv = "staging"\n')
    with pytest.raises(ConfigError, match=r"\$\.system\.env"):
        load_config(path, environ={})
    path = write(tmp_path, '[http]\nport = "eighty"\n')
    with pytest.raises(ConfigError, match=r"\$\.http\.port"):
        load_config(path, environ={})


def test_a_missing_or_broken_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="c.toml"):
        load_config(write(tmp_path, "[http\n"), environ={})


def test_port_and_data_dir_come_from_the_environment_too():
    config = load_config(environ={"CLASH_PORT": "9123", "CLASH_DATA_DIR": "/tmp/x"})
    assert config.http.port == 9123 and config.system.data_dir == "/tmp/x"
    with pytest.raises(ConfigError, match="CLASH_PORT"):
        load_config(environ={"CLASH_PORT": "http"})


def test_production_refuses_the_dev_identity_header_and_needs_an_admin_token(tmp_path):
    config = load_config(write(tmp_path, '[system]\nenv = "production"\n'), environ={})
    with pytest.raises(ConfigError, match="dev_identity_header"):
        validate(config, Secrets(admin_token="t"))
    config = load_config(
        write(tmp_path, '[system]\nenv = "production"\n[http]\ndev_identity_header = false\n'), environ={}
    )
    with pytest.raises(ConfigError, match="CLASH_ADMIN_TOKEN"):
        validate(config, Secrets())
    validate(config, Secrets(admin_token="t"))
