"""`clash.auth`: users, wallets, SIWE challenges and refresh-token sessions.

The module is a plain API object over its own tables; every call is one store transaction, so two
requests racing for one nonce or one refresh token cannot both win (the UPDATE that spends it is
conditional and the loser sees rowcount 0).
"""

from __future__ import annotations

import logging
import secrets
import string
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from actors import Clock
from clash.auth._eth import is_hex_address, to_checksum_address
from clash.auth.config import AuthConfig
from clash.auth.ratelimit import RateLimiter
from clash.auth.siwe import SiweError, SiweMessage, format_message, iso, parse, recover, time_ms
from clash.auth.tokens import (
    AccessClaims,
    TokenError,
    decode_access,
    issue_access,
    new_refresh_token,
    new_secret,
    token_hash,
)
from clash.store import Database, Reader, Transaction

if TYPE_CHECKING:
    from clash.runtime import Runtime

log = logging.getLogger(__name__)

SKEW_MS = 60_000
"""How far in the future a message's Issued At may be (a wallet's clock runs ahead of ours)."""
_NONCE_ALPHABET = string.ascii_letters + string.digits
SECRET_FILE = "jwt.secret"


class AuthError(Exception):
    """A refused sign-in, refresh or session call; `status` is the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class RateLimited(Exception):
    def __init__(self, retry_after_ms: int, key: str) -> None:
        super().__init__(f"too many sign-in requests for {key}")
        self.retry_after_ms = retry_after_ms


class Tokens(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user_id: int
    session_id: int


class SessionInfo(msgspec.Struct, frozen=True):
    id: int
    wallet: str
    created_at_ms: int
    last_used_at_ms: int
    current: bool


class WalletInfo(msgspec.Struct, frozen=True):
    address: str
    chain_id: int


class Me(msgspec.Struct, frozen=True):
    user_id: int
    wallets: list[WalletInfo]
    roles: list[str]


def _nonce() -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(17))


def jwt_secret(env: str, given: str | None, data_dir: Path) -> str:
    """`CLASH_JWT_SECRET`; in development a generated one kept in the data dir."""
    if given:
        return given
    if env == "production":
        raise AuthError("no_jwt_secret", "CLASH_JWT_SECRET must be set in production", 500)
    path = data_dir / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(new_secret())
        path.chmod(0o600)
        log.info("wrote a development JWT secret to %s", path, extra={"secret_file": str(path)})
    return path.read_text().strip()


class AuthModule:
    name = "auth"
    package = "clash.auth"

    def __init__(self, db: Database, clock: Clock, config: AuthConfig, secret: str) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self._secret = secret
        self._admins = {a.lower() for a in config.admin_wallets}
        self.limiter = RateLimiter(config.rate_burst, config.rate_per_minute)

    @staticmethod
    def register_checks(db: Database) -> None:
        async def one_live_token_per_session(r: Reader) -> list[str]:
            rows = await r.fetchall(
                "SELECT session_id, COUNT(*) FROM refresh_tokens"
                " WHERE rotated_at_ms IS NULL AND revoked_at_ms IS NULL"
                " GROUP BY session_id HAVING COUNT(*) > 1"
            )
            return [f"session {s} has {n} live refresh tokens" for s, n in rows]

        db.register_check("auth.one_live_refresh_token_per_session", one_live_token_per_session)

    @classmethod
    async def start(cls, rt: Runtime) -> AuthModule:
        secret = jwt_secret(rt.config.system.env, rt.secrets.jwt_secret, rt.data_dir)
        return cls(rt.db, rt.clock, rt.config.auth, secret)

    # -- rate limits ---------------------------------------------------------------------------

    def check_rate(self, key: str) -> None:
        """Spend one of `key`'s sign-in tokens or raise `RateLimited`."""
        wait = self.limiter.take(key, self.clock.now_ms())
        if wait:
            log.warning("sign-in rate limit hit by %s", key, extra={"key": key, "wait_ms": wait})
            raise RateLimited(wait, key)

    # -- SIWE ----------------------------------------------------------------------------------

    async def challenge(self, address: str, chain_id: int | None = None) -> str:
        """A fresh SIWE message for `address` to sign, with a nonce we remember."""
        if not is_hex_address(address):
            raise AuthError("invalid_address", "address must be 0x and 40 hex digits", 422)
        chain = chain_id if chain_id is not None else self.config.chain_ids[0]
        if chain not in self.config.chain_ids:
            raise AuthError("chain_not_allowed", f"chain {chain} is not allowed", 422)
        now = self.clock.now_ms()
        expires = now + self.config.challenge_minutes * 60_000
        nonce = _nonce()
        checksummed = to_checksum_address(address)
        message = SiweMessage(
            domain=self.config.domain,
            address=checksummed,
            statement=self.config.statement or None,
            uri=self.config.uri,
            chain_id=chain,
            nonce=nonce,
            issued_at=iso(now),
            expiration_time=iso(expires),
        )
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM siwe_challenges WHERE expires_at_ms < ?", (now - 86_400_000,)
            )
            await tx.execute(
                "INSERT INTO siwe_challenges (nonce, address, chain_id, issued_at_ms, expires_at_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (nonce, checksummed, chain, now, expires),
            )
        return format_message(message)

    def _check_terms(self, m: SiweMessage, now: int) -> None:
        c = self.config
        if m.domain != c.domain:
            raise AuthError("domain_mismatch", f"the message is for {m.domain!r}, not {c.domain!r}")
        if m.uri != c.uri:
            raise AuthError("uri_mismatch", f"the message's URI is {m.uri!r}, not {c.uri!r}")
        if m.chain_id not in c.chain_ids:
            raise AuthError("chain_not_allowed", f"chain {m.chain_id} is not allowed")
        if m.expiration_time is not None and now >= time_ms(m.expiration_time):
            raise AuthError("expired", "the message has expired")
        if m.not_before is not None and now < time_ms(m.not_before):
            raise AuthError("not_yet_valid", "the message is not valid yet (Not Before)")
        if time_ms(m.issued_at) > now + SKEW_MS:
            raise AuthError("not_yet_valid", "the message is issued in the future")

    async def verify(self, text: str, signature: str) -> Tokens:
        """Check a signed SIWE message; on success the wallet's user gets a new session."""
        try:
            m = parse(text)
            now = self.clock.now_ms()
            self._check_terms(m, now)
            async with self.db.read() as r:
                row = await r.fetchone(
                    "SELECT address, chain_id, expires_at_ms, used_at_ms FROM siwe_challenges"
                    " WHERE nonce = ?",
                    (m.nonce,),
                )
            if row is None:
                raise AuthError("nonce_unknown", "we did not issue this nonce")
            address, chain, expires, used = row
            if used is not None:
                raise AuthError("nonce_used", "this nonce has been used")
            if now >= expires:
                raise AuthError("expired", "the challenge has expired; ask for a new one")
            if m.address != address:
                raise AuthError("address_mismatch", "the nonce was issued to another address")
            if m.chain_id != chain:
                raise AuthError("chain_not_allowed", "the nonce was issued for another chain")
            signer = recover(text, signature)
            if signer != m.address:
                raise AuthError("address_mismatch", "the signature is not the message address's")
        except SiweError as exc:
            status = 422 if exc.code == "malformed_message" else 401
            raise AuthError(exc.code, exc.message, status) from None
        return await self._sign_in(m, now)

    async def _sign_in(self, m: SiweMessage, now: int) -> Tokens:
        refresh = new_refresh_token()
        async with self.db.transaction() as tx:
            spent = await tx.execute(
                "UPDATE siwe_challenges SET used_at_ms = ? WHERE nonce = ? AND used_at_ms IS NULL",
                (now, m.nonce),
            )
            if spent.rowcount != 1:
                raise AuthError("nonce_used", "this nonce has been used")
            row = await tx.fetchone(
                "SELECT id, user_id FROM wallets WHERE address = ?", (m.address,)
            )
            if row is None:
                user_id = (
                    await tx.execute("INSERT INTO users (created_at_ms) VALUES (?)", (now,))
                ).lastrowid
                wallet_id = (
                    await tx.execute(
                        "INSERT INTO wallets (user_id, address, chain_id, created_at_ms)"
                        " VALUES (?, ?, ?, ?)",
                        (user_id, m.address, m.chain_id, now),
                    )
                ).lastrowid
                log.info(
                    "new user %s for wallet %s", user_id, m.address, extra={"user_id": user_id}
                )
            else:
                wallet_id, user_id = row
            assert user_id is not None and wallet_id is not None
            session_id = (
                await tx.execute(
                    "INSERT INTO sessions (user_id, wallet_id, created_at_ms, last_used_at_ms)"
                    " VALUES (?, ?, ?, ?)",
                    (user_id, wallet_id, now, now),
                )
            ).lastrowid
            assert session_id is not None
            await self._add_refresh(tx, session_id, refresh, now)
        log.info("user %s signed in (session %s)", user_id, session_id, extra={"user_id": user_id})
        return self._tokens(user_id, session_id, refresh, now)

    async def _add_refresh(self, tx: Transaction, session_id: int, refresh: str, now: int) -> None:
        await tx.execute(
            "INSERT INTO refresh_tokens (session_id, token_hash, issued_at_ms, expires_at_ms)"
            " VALUES (?, ?, ?, ?)",
            (session_id, token_hash(refresh), now, now + self.config.refresh_days * 86_400_000),
        )

    def _tokens(self, user_id: int, session_id: int, refresh: str, now: int) -> Tokens:
        ttl = self.config.access_minutes * 60
        access = issue_access(self._secret, user_id, session_id, now, ttl)
        return Tokens(access, refresh, "Bearer", ttl, user_id, session_id)

    # -- sessions ------------------------------------------------------------------------------

    async def refresh(self, refresh: str) -> Tokens:
        """Rotate a refresh token. A token that was already rotated is a stolen copy or a replay:
        its whole session (family) is revoked."""
        if not refresh or len(refresh) > 512:
            raise AuthError("invalid_refresh_token", "unknown refresh token")
        now = self.clock.now_ms()
        new = new_refresh_token()
        reused: int | None = None
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT t.id, t.session_id, t.expires_at_ms, t.rotated_at_ms, t.revoked_at_ms,"
                " s.user_id, s.revoked_at_ms FROM refresh_tokens t"
                " JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?",
                (token_hash(refresh),),
            )
            if row is None:
                raise AuthError("invalid_refresh_token", "unknown refresh token")
            token_id, session_id, expires, rotated, revoked, user_id, session_revoked = row
            if session_revoked is not None or revoked is not None:
                raise AuthError("session_revoked", "this session has been signed out")
            if rotated is not None:
                await self._revoke(tx, session_id, now, "refresh_token_reuse")
                reused = session_id
            elif now >= expires:
                raise AuthError("refresh_expired", "the refresh token has expired; sign in again")
            else:
                await tx.execute(
                    "UPDATE refresh_tokens SET rotated_at_ms = ? WHERE id = ?", (now, token_id)
                )
                await tx.execute(
                    "UPDATE sessions SET last_used_at_ms = ? WHERE id = ?", (now, session_id)
                )
                await self._add_refresh(tx, session_id, new, now)
        if reused is not None:
            log.warning(
                "refresh token reused: session %s of user %s revoked",
                reused,
                user_id,
                extra={"session_id": reused, "user_id": user_id},
            )
            raise AuthError("refresh_token_reused", "this refresh token was already used")
        return self._tokens(user_id, session_id, new, now)

    async def _revoke(self, tx: Transaction, session_id: int, now: int, reason: str) -> None:
        await tx.execute(
            "UPDATE sessions SET revoked_at_ms = ?, revoked_reason = ?"
            " WHERE id = ? AND revoked_at_ms IS NULL",
            (now, reason, session_id),
        )
        await tx.execute(
            "UPDATE refresh_tokens SET revoked_at_ms = ? WHERE session_id = ? AND revoked_at_ms IS NULL",
            (now, session_id),
        )

    async def revoke_session(
        self, user_id: int, session_id: int, reason: str = "signed_out"
    ) -> None:
        """Sign a session of `user_id` out (404 `session_not_found` for anyone else's)."""
        now = self.clock.now_ms()
        async with self.db.transaction() as tx:
            owner = await tx.fetchval("SELECT user_id FROM sessions WHERE id = ?", (session_id,))
            if owner != user_id:
                raise AuthError("session_not_found", f"no session {session_id}", 404)
            await self._revoke(tx, session_id, now, reason)

    async def sessions(self, user_id: int, current: int | None) -> list[SessionInfo]:
        now = self.clock.now_ms()
        async with self.db.read() as r:
            rows = await r.fetchall(
                "SELECT s.id, w.address, s.created_at_ms, s.last_used_at_ms FROM sessions s"
                " JOIN wallets w ON w.id = s.wallet_id"
                " WHERE s.user_id = ? AND s.revoked_at_ms IS NULL AND EXISTS ("
                "  SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id"
                "  AND t.rotated_at_ms IS NULL AND t.revoked_at_ms IS NULL AND t.expires_at_ms > ?)"
                " ORDER BY s.id",
                (user_id, now),
            )
        return [SessionInfo(i, a, c, u, i == current) for i, a, c, u in rows]

    async def me(self, user_id: int) -> Me:
        async with self.db.read() as r:
            rows = await r.fetchall(
                "SELECT address, chain_id FROM wallets WHERE user_id = ? ORDER BY id", (user_id,)
            )
        wallets = [WalletInfo(a, c) for a, c in rows]
        roles = ["user"]
        if any(w.address.lower() in self._admins for w in wallets):
            roles.append("admin")
        return Me(user_id, wallets, roles)

    # -- access tokens -------------------------------------------------------------------------

    def authenticate(self, access_token: str) -> AccessClaims:
        """The claims of a valid access token, else `AuthError` (401). Stateless: a revoked
        session's access token lives out its minutes; refresh is what revocation stops."""
        try:
            return decode_access(self._secret, access_token, self.clock.now_ms())
        except TokenError as exc:
            raise AuthError(exc.code, exc.message) from None
