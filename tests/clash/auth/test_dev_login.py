"""`clash auth dev-login` as a user runs it: a real `clash run` process and a real subprocess."""

import json

import httpx
from eth_account import Account

from tests.clash.test_boot_process import clash, start_server, stop


def test_dev_login_prints_tokens_that_the_server_accepts(tmp_path):
    served = start_server(tmp_path)
    try:
        done = clash("auth", "dev-login", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        login = json.loads(done.stdout)
        assert Account.from_key(login["private_key"]).address == login["address"]
        me = httpx.get(
            f"{served.url}/api/v1/me",
            headers={"authorization": f"Bearer {login['access_token']}"},
        ).json()
        assert me["user_id"] == login["user_id"]
        assert me["wallets"][0]["address"] == login["address"]
        assert (served.data_dir / "jwt.secret").exists()  # development made its own key

        # The same key again is the same user; an address without its key gets a fresh one.
        again = clash("auth", "dev-login", "--key", login["private_key"], cwd=tmp_path)
        assert json.loads(again.stdout)["user_id"] == login["user_id"]
        other = clash("auth", "dev-login", login["address"], "--url", served.url, cwd=tmp_path)
        assert other.returncode == 0, other.stderr
        assert "signing in with a fresh one" in other.stderr
        assert json.loads(other.stdout)["user_id"] != login["user_id"]
        wrong = clash("auth", "dev-login", login["address"], "--key", Account.create().key.hex())
        assert wrong.returncode == 2
    finally:
        stop(served)


def test_dev_login_refuses_in_production(tmp_path):
    config = tmp_path / "prod.toml"
    config.write_text('[system]\nenv = "production"\n[http]\ndev_identity_header = false\n')
    done = clash("auth", "dev-login", "--config", str(config), "--url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "development only" in done.stderr
