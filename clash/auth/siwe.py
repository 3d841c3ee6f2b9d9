"""Sign-In with Ethereum (EIP-4361): a strict parser of the spec's ABNF, the message writer, and
EIP-191 signature recovery. Pure functions; the module checks the parsed terms against its own
domain, URI, chains, nonces and clock.

Every failure is a `SiweError` with its code (`malformed_message`, `bad_signature`, ...).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from clash.auth._eth import Account, encode_defunct, to_checksum_address

MAX_MESSAGE = 4096
"""The longest message we parse (the spec leaves term lengths to the implementer)."""
MAX_RESOURCES = 16

_HEADER = " wants you to sign in with your Ethereum account:"
# RFC 3986 pieces: unreserved, sub-delims, pct-encoded, pchar.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_AUTHORITY = re.compile(
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"  # userinfo@
    rf"(?:\[[0-9A-Fa-f:.]+\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"  # host
    r"(?::[0-9]*)?"  # :port
)
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:"  # scheme
    rf"(?:{_PCHAR}|[/?#\[\]])*"  # hier-part, query, fragment (characters of RFC 3986 only)
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_STATEMENT = re.compile(rf"[{_UNRESERVED}{_SUB_DELIMS}:/?#\[\]@ ]*")
_CHAIN_ID = re.compile(r"[0-9]{1,20}")
_NONCE = re.compile(r"[A-Za-z0-9]{8,64}")
_REQUEST_ID = re.compile(rf"{_PCHAR}*")
# RFC 3339 date-time: full-date "T" partial-time time-offset.
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)


class SiweError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SiweMessage(msgspec.Struct, frozen=True, kw_only=True):
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    scheme: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()


def _malformed(why: str) -> SiweError:
    return SiweError("malformed_message", f"not an EIP-4361 message: {why}")


def _term(line: str, prefix: str, pattern: re.Pattern[str], name: str) -> str:
    if not line.startswith(prefix):
        raise _malformed(f"expected {prefix.strip()!r}")
    value = line[len(prefix) :]
    if not pattern.fullmatch(value):
        raise _malformed(f"bad {name} {value[:80]!r}")
    return value


def time_ms(value: str) -> int:
    """An RFC 3339 date-time as epoch milliseconds."""
    if not _DATE_TIME.fullmatch(value):
        raise _malformed(f"bad date-time {value[:80]!r}")
    text = value.upper().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python parses at most 6 fraction digits: keep milliseconds
        digits = re.match(r"\d+", rest)
        assert digits is not None
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        raise _malformed(f"bad date-time {value[:80]!r}") from None


def iso(ms: int) -> str:
    """Epoch milliseconds as the RFC 3339 form we write (`2026-01-01T00:00:00.000Z`)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse(text: str) -> SiweMessage:
    """The terms of an EIP-4361 message, or `SiweError("malformed_message")`."""
    if len(text) > MAX_MESSAGE:
        raise _malformed(f"longer than {MAX_MESSAGE} characters")
    lines = text.split("\n")
    if len(lines) < 9 or not lines[0].endswith(_HEADER):
        raise _malformed("first line must be '<domain> wants you to sign in ...'")
    origin = lines[0][: -len(_HEADER)]
    scheme, sep, domain = origin.partition("://")
    if not sep:
        scheme, domain = "", origin
    elif not _SCHEME.fullmatch(scheme):
        raise _malformed(f"bad scheme {scheme[:80]!r}")
    if not domain or not _AUTHORITY.fullmatch(domain):
        raise _malformed(f"bad domain {domain[:80]!r}")
    address = lines[1]
    if not _ADDRESS.fullmatch(address):
        raise _malformed("the address must be 0x and 40 hex digits")
    if address != to_checksum_address(address):
        raise _malformed("the address must be EIP-55 checksummed")
    if lines[2] != "":
        raise _malformed("an empty line must follow the address")
    # `[ statement LF ] LF`: a statement line then an empty one, or no statement. Messages from
    # libraries that drop the statement's empty line too (`address LF LF URI`) are accepted.
    at = 3
    statement: str | None = None
    if lines[3].startswith("URI: "):
        pass
    elif lines[3] == "":
        at = 4
    else:
        statement = lines[3]
        if not statement or not _STATEMENT.fullmatch(statement):
            raise _malformed("the statement holds characters the ABNF excludes")
        if len(lines) < 5 or lines[4] != "":
            raise _malformed("an empty line must follow the statement")
        at = 5
    rest = lines[at:]
    if len(rest) < 5:
        raise _malformed("URI, Version, Chain ID, Nonce and Issued At are required")
    uri = _term(rest[0], "URI: ", _URI, "URI")
    version = _term(rest[1], "Version: ", re.compile("1"), "version")
    chain_id = int(_term(rest[2], "Chain ID: ", _CHAIN_ID, "chain id"))
    nonce = _term(rest[3], "Nonce: ", _NONCE, "nonce (8 or more letters and digits)")
    issued_at = _term(rest[4], "Issued At: ", _DATE_TIME, "issued-at")
    optional: dict[str, str] = {}
    i = 5
    for key, prefix, pattern in (
        ("expiration_time", "Expiration Time: ", _DATE_TIME),
        ("not_before", "Not Before: ", _DATE_TIME),
        ("request_id", "Request ID: ", _REQUEST_ID),
    ):
        if i < len(rest) and rest[i].startswith(prefix):
            optional[key] = _term(rest[i], prefix, pattern, key.replace("_", " "))
            i += 1
    resources: list[str] = []
    if i < len(rest) and rest[i] == "Resources:":
        i += 1
        while i < len(rest):
            resources.append(_term(rest[i], "- ", _URI, "resource URI"))
            i += 1
        if len(resources) > MAX_RESOURCES:
            raise _malformed(f"more than {MAX_RESOURCES} resources")
    if i != len(rest):
        raise _malformed(f"unexpected line {rest[i][:80]!r}")
    for stamp in (issued_at, optional.get("expiration_time"), optional.get("not_before")):
        if stamp is not None:
            time_ms(stamp)
    return SiweMessage(
        scheme=scheme or None,
        domain=domain,
        address=address,
        statement=statement,
        uri=uri,
        version=version,
        chain_id=chain_id,
        nonce=nonce,
        issued_at=issued_at,
        resources=tuple(resources),
        **optional,
    )


def format_message(m: SiweMessage) -> str:
    """The message text the ABNF describes (`parse(format_message(m)) == m`)."""
    origin = f"{m.scheme}://{m.domain}" if m.scheme else m.domain
    lines = [f"{origin}{_HEADER}", m.address, ""]
    if m.statement is not None:
        lines.append(m.statement)
    lines += [
        "",
        f"URI: {m.uri}",
        f"Version: {m.version}",
        f"Chain ID: {m.chain_id}",
        f"Nonce: {m.nonce}",
        f"Issued At: {m.issued_at}",
    ]
    if m.expiration_time is not None:
        lines.append(f"Expiration Time: {m.expiration_time}")
    if m.not_before is not None:
        lines.append(f"Not Before: {m.not_before}")
    if m.request_id is not None:
        lines.append(f"Request ID: {m.request_id}")
    if m.resources:
        lines.append("Resources:")
        lines += [f"- {r}" for r in m.resources]
    return "\n".join(lines)


def signature_bytes(signature: str) -> bytes:
    """A hex signature's bytes; 65 bytes is an EOA's ECDSA signature, anything else is taken
    for a contract wallet's (ERC-1271), which we do not verify."""
    text = signature[2:] if signature[:2] in ("0x", "0X") else signature
    if len(text) > 4096 or not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
        raise SiweError("bad_signature", "the signature must be hex bytes")
    raw = bytes.fromhex(text)
    if len(raw) != 65:
        raise SiweError(
            "contract_wallet_unsupported",
            f"a {len(raw)}-byte signature is not an EOA's (65 bytes); contract wallets "
            "(ERC-1271) are not supported",
        )
    return raw


def recover(text: str, signature: str) -> str:
    """The checksummed address whose key signed `text` (EIP-191 personal_sign)."""
    raw = signature_bytes(signature)
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=raw))
    except Exception as exc:  # eth-keys raises several types for an invalid (r, s, v)
        raise SiweError("bad_signature", f"the signature does not recover: {exc}") from None
