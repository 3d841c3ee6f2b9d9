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
    with pytest.raises(ConfigError, match=r"c\.toml"):
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
        write(tmp_path, '[system]\nenv = "production"\n[http]\ndev_identity_header = false\n'),
        environ={},
    )
    with pytest.raises(ConfigError, match="CLASH_ADMIN_TOKEN"):
        validate(config, Secrets())
    with pytest.raises(ConfigError, match="CLASH_JWT_SECRET"):
        validate(config, Secrets(admin_token="t"))
    validate(config, Secrets(admin_token="t", jwt_secret="s"))


@pytest.mark.parametrize(
    ("toml", "path"),
    [
        ("[prop.limits]\nmax_leverage = -5\n", r"\$\.prop\.limits\.max_leverage"),
        ("[prop.limits]\nmax_leverage = 0\n", r"\$\.prop\.limits\.max_leverage"),
        ("[prop]\nmark_interval_s = nan\n", r"\$\.prop\.mark_interval_s"),
        ("[prop]\nmark_interval_s = 0.0\n", r"\$\.prop\.mark_interval_s"),
        ("[system]\nheartbeat_interval_s = inf\n", r"\$\.system\.heartbeat_interval_s"),
        ("[system]\nheartbeat_interval_s = -1.0\n", r"\$\.system\.heartbeat_interval_s"),
        ("[prop.limits]\nstarting_equity_micro = 0\n", r"\$\.prop\.limits\.starting_equity_micro"),
        ('[prop.limits]\ntaker_fee_bps = "-1"\n', r"\$\.prop\.limits\.taker_fee_bps"),
        ('[prop.limits]\nslippage_bps = "NaN"\n', r"finite.*\$\.prop\.limits\.slippage_bps"),
        (
            '[prop.limits]\ndaily_loss_halt = "Infinity"\n',
            r"finite.*\$\.prop\.limits\.daily_loss_halt",
        ),
        (
            '[prop.limits]\nmax_drawdown_halt = "1.5"\n',
            r"<= 1.*\$\.prop\.limits\.max_drawdown_halt",
        ),
        ("[http]\nmax_body_bytes = 0\n", r"\$\.http\.max_body_bytes"),
        (
            "[market.hyperliquid]\ncontexts_interval_s = -60.0\n",
            r"\$\.market\.hyperliquid\.contexts_interval_s",
        ),
        (
            "[market.hyperliquid.retry]\ntimeout_s = nan\n",
            r"\$\.market\.hyperliquid\.retry\.timeout_s",
        ),
        ('[trading.rules]\nsize_fraction = "0"\n', r"\$\.trading\.rules\.size_fraction"),
        ("[trading]\nrun_timeout_s = inf\n", r"\$\.trading\.run_timeout_s"),
    ],
)
def test_non_finite_zero_or_negative_limits_stop_boot_naming_the_key(tmp_path, toml, path):
    with pytest.raises(ConfigError, match=path):
        load_config(write(tmp_path, toml), environ={})


def test_a_bad_limit_makes_the_cli_exit_2_naming_the_key(tmp_path, capsys):
    from clash.cli import main

    path = write(
        tmp_path, f'[system]\ndata_dir = "{tmp_path / "var"}"\n[prop.limits]\nmax_leverage = -5\n'
    )
    assert main(["db", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad configuration" in err and "$.prop.limits.max_leverage" in err
    assert not (tmp_path / "var").exists()


def test_sane_limits_in_range_still_load(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[prop.limits]\nmax_leverage = 3\ntaker_fee_bps = "0"\n[system]\nheartbeat_interval_s = 0.5\n',
        ),
        environ={},
    )
    assert config.prop.limits.max_leverage == 3 and config.system.heartbeat_interval_s == 0.5
