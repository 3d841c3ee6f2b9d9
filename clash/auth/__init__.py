"""Users, wallets and sessions: Sign-In with Ethereum (EIP-4361), HS256 access tokens and rotating
refresh tokens.

The contract: boot starts `AuthModule`; routes call its methods (`challenge`, `verify`, `refresh`,
`sessions`, `revoke_session`, `me`, `authenticate`), which raise `AuthError` (a code and an HTTP
status) or `RateLimited`. Its tables (users, wallets, siwe_challenges, sessions, refresh_tokens)
are private to the package.
"""

from clash.auth.config import AuthConfig
from clash.auth.devlogin import DevLogin, DevLoginError, dev_key, dev_login
from clash.auth.module import (
    AuthError,
    AuthModule,
    Me,
    RateLimited,
    SessionInfo,
    Tokens,
    WalletInfo,
    jwt_secret,
)
from clash.auth.siwe import SiweMessage, format_message, iso, parse

__all__ = [
    "AuthModule",
    "AuthConfig",
    "Me",
    "SessionInfo",
    "Tokens",
    "WalletInfo",
    "SiweMessage",
    "format_message",
    "iso",
    "jwt_secret",
    "DevLogin",
    "dev_key",
    "dev_login",
    "parse",
    "AuthError",
    "RateLimited",
    "DevLoginError",
]
