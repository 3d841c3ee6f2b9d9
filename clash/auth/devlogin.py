"""`clash auth dev-login`: sign in to a running development server with a throwaway key, so curl
walkthroughs work without a wallet."""

from __future__ import annotations

import httpx
import msgspec

from clash.auth._eth import Account, LocalAccount, encode_defunct


class DevLogin(msgspec.Struct, frozen=True):
    address: str
    private_key: str
    user_id: int
    session_id: int
    access_token: str
    refresh_token: str


class DevLoginError(Exception):
    pass


def dev_key(private_key: str | None) -> LocalAccount:
    """The account of `private_key`, or a fresh throwaway one."""
    if private_key is None:
        return Account.create()
    try:
        return Account.from_key(private_key)
    except (ValueError, TypeError) as exc:
        raise DevLoginError(f"not a private key: {exc}") from None


async def dev_login(url: str, key: LocalAccount, chain_id: int | None = None) -> DevLogin:
    """Challenge, sign with `key`, verify: the tokens the server answers."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        body: dict[str, object] = {"address": key.address}
        if chain_id is not None:
            body["chain_id"] = chain_id
        challenge = await client.post("/api/v1/auth/challenge", json=body)
        if challenge.status_code != 200:
            raise DevLoginError(f"challenge refused: {challenge.status_code} {challenge.text}")
        message = challenge.json()["message"]
        signature = Account.sign_message(encode_defunct(text=message), key.key).signature
        verify = await client.post(
            "/api/v1/auth/verify", json={"message": message, "signature": "0x" + signature.hex()}
        )
        if verify.status_code != 200:
            raise DevLoginError(f"verify refused: {verify.status_code} {verify.text}")
        tokens = verify.json()
    return DevLogin(
        address=key.address,
        private_key="0x" + key.key.hex(),
        user_id=tokens["user_id"],
        session_id=tokens["session_id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )
