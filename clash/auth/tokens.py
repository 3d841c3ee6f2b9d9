"""Access tokens (HS256 JWTs) and opaque refresh tokens. Pure: the caller passes the time.

PyJWT checks `exp` against the wall clock, so expiry is checked here against the runtime clock.
"""

from __future__ import annotations

import hashlib
import secrets

import jwt
import msgspec

ALGORITHM = "HS256"
ISSUER = "clash"
MAX_TOKEN = 4096


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AccessClaims(msgspec.Struct, frozen=True):
    sub: str
    sid: int
    iat: int
    exp: int
    iss: str


def issue_access(secret: str, user_id: int, session_id: int, now_ms: int, ttl_s: int) -> str:
    now = now_ms // 1000
    claims = {"sub": str(user_id), "sid": session_id, "iat": now, "exp": now + ttl_s, "iss": ISSUER}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access(secret: str, token: str, now_ms: int) -> AccessClaims:
    """The claims of a token we signed that has not expired at `now_ms`, else `TokenError`."""
    if len(token) > MAX_TOKEN:
        raise TokenError("invalid_token", "the access token is too long")
    try:
        raw = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "sid"]},
        )
        claims = msgspec.convert(raw, AccessClaims)
    except (jwt.InvalidTokenError, msgspec.ValidationError) as exc:
        raise TokenError("invalid_token", f"not a valid access token: {exc}") from None
    if now_ms >= claims.exp * 1000:
        raise TokenError("token_expired", "the access token has expired; refresh it")
    return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(48)
