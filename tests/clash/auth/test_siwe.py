"""The SIWE parser and writer against EIP-4361's examples and every field's edge."""

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from clash.auth.ratelimit import RateLimiter
from clash.auth.siwe import SiweError, format_message, iso, parse, recover, time_ms

# The example of EIP-4361 ("Example message").
SPEC_EXAMPLE = """example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""

# Every optional field, with a scheme (the newer revision of the EIP allows `https://` first).
FULL = """https://example.com:8443 wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

Sign in.

URI: https://example.com:8443/login?x=1
Version: 1
Chain ID: 10
Nonce: abcDEF12345
Issued At: 2023-10-31T16:25:24.123+02:00
Expiration Time: 2023-10-31T17:25:24Z
Not Before: 2023-10-31T16:20:24Z
Request ID: request-123
Resources:
- https://example.com/profile"""


def test_the_spec_example_parses_and_writes_back_unchanged():
    m = parse(SPEC_EXAMPLE)
    assert m.domain == "example.com"
    assert m.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert m.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert (m.uri, m.version, m.chain_id, m.nonce) == (
        "https://example.com/login",
        "1",
        1,
        "32891756",
    )
    assert time_ms(m.issued_at) == 1_633_019_124_000
    assert len(m.resources) == 2
    assert format_message(m) == SPEC_EXAMPLE


def test_every_optional_field():
    m = parse(FULL)
    assert (m.scheme, m.domain) == ("https", "example.com:8443")
    assert m.chain_id == 10
    assert time_ms(m.issued_at) == 1_698_762_324_123  # 14:25:24.123Z
    assert time_ms(m.expiration_time or "") == 1_698_773_124_000
    assert m.not_before == "2023-10-31T16:20:24Z"
    assert m.request_id == "request-123"
    assert m.resources == ("https://example.com/profile",)
    assert format_message(m) == FULL


def test_a_message_without_statement():
    text = SPEC_EXAMPLE.replace(
        "I accept the ExampleOrg Terms of Service: https://example.com/tos\n\n", "\n"
    )
    m = parse(text)
    assert m.statement is None
    assert format_message(m) == text
    # Libraries that drop the second empty line too are read the same.
    assert parse(text.replace("\n\n\n", "\n\n")) == m


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("example.com wants", "example.com wants  "),
        ("example.com wants", "exa mple.com wants"),
        ("wants you to sign in", "wants you to log in"),
        (
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
            "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
        ),
        ("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc"),
        (
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\n",
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n",
        ),
        ("Service: https", "Service:\thttps"),
        ("https://example.com/tos\n\n", "https://example.com/tos\n"),
        ("URI: https://example.com/login", "URI: example.com/login"),
        ("URI: https://example.com/login", "URI: https://exa mple.com/login"),
        ("URI: ", "Uri: "),
        ("Version: 1", "Version: 2"),
        ("Chain ID: 1", "Chain ID: one"),
        ("Chain ID: 1", "Chain ID: "),
        ("Nonce: 32891756", "Nonce: 3289175"),
        ("Nonce: 32891756", "Nonce: 32891756!"),
        ("Issued At: 2021-09-30T16:25:24Z", "Issued At: 2021-09-30 16:25:24"),
        ("Issued At: 2021-09-30T16:25:24Z", "Issued At: 2021-13-30T16:25:24Z"),
        ("Issued At: 2021-09-30T16:25:24Z\n", "Issued At: 2021-09-30T16:25:24Z\nColor: red\n"),
        ("Resources:\n", "Resources:\nhttps://example.com\n"),
        ("- https://example.com/my-web2-claim.json", "- not a uri"),
        ("Nonce: 32891756\nIssued At: 2021-09-30T16:25:24Z", "Issued At: 2021-09-30T16:25:24Z"),
    ],
)
def test_a_message_off_the_abnf_is_malformed(old, new):
    assert old in SPEC_EXAMPLE
    with pytest.raises(SiweError) as caught:
        parse(SPEC_EXAMPLE.replace(old, new, 1))
    assert caught.value.code == "malformed_message"


def test_optional_fields_out_of_order_or_bad_are_malformed():
    base = SPEC_EXAMPLE.replace(
        "Resources:\n", "Expiration Time: 2021-09-30T17:00:00Z\nResources:\n"
    )
    assert parse(base).expiration_time == "2021-09-30T17:00:00Z"
    swapped = base.replace(
        "Expiration Time: 2021-09-30T17:00:00Z\n",
        "Not Before: 2021-09-30T16:00:00Z\nExpiration Time: 2021-09-30T17:00:00Z\n",
    )
    for text in (
        swapped,
        base.replace("17:00:00Z", "17:00:00"),
        SPEC_EXAMPLE.replace("Resources:\n", "Request ID: a b\nResources:\n"),
        SPEC_EXAMPLE + "\n",
        "x" * 5000,
    ):
        with pytest.raises(SiweError) as caught:
            parse(text)
        assert caught.value.code == "malformed_message"


def test_iso_writes_what_time_ms_reads():
    assert iso(1_767_225_600_123) == "2026-01-01T00:00:00.123Z"
    assert time_ms(iso(1_767_225_600_123)) == 1_767_225_600_123


def test_recover_names_the_signer():
    key = Account.create()
    signed = Account.sign_message(encode_defunct(text=SPEC_EXAMPLE), key.key)
    assert recover(SPEC_EXAMPLE, signed.signature.hex()) == key.address
    assert recover(SPEC_EXAMPLE + " ", "0x" + signed.signature.hex()) != key.address


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        ("0x1234", "contract_wallet_unsupported"),
        ("0x" + "ab" * 130, "contract_wallet_unsupported"),
        ("0xzz", "bad_signature"),
        ("0x123", "bad_signature"),
        ("0x" + "00" * 65, "bad_signature"),
    ],
)
def test_signatures_that_are_not_an_eoa_s(signature, code):
    with pytest.raises(SiweError) as caught:
        recover(SPEC_EXAMPLE, signature)
    assert caught.value.code == code


def test_token_bucket_allows_a_burst_then_refills_on_the_given_clock():
    limiter = RateLimiter(capacity=2, per_minute=6)  # one token per 10 s
    assert limiter.take("a", 0) == 0
    assert limiter.take("a", 0) == 0
    assert limiter.take("a", 0) == 10_000
    assert limiter.take("b", 0) == 0  # keys are independent
    assert limiter.take("a", 4_000) == 6_000
    assert limiter.take("a", 10_000) == 0
    assert limiter.take("a", 10_000) == 10_000


def test_token_bucket_memory_is_bounded():
    limiter = RateLimiter(capacity=1, per_minute=60, max_keys=3)
    for i in range(10):
        assert limiter.take(f"k{i}", i) == 0
    assert len(limiter._buckets) <= 3


def test_importing_auth_leaves_the_recursion_limit_alone():
    """py_ecc (under eth-account) raises it to 100 000 on import; clash.auth puts it back."""
    import subprocess
    import sys

    code = "import sys; a = sys.getrecursionlimit(); import clash.auth; print(a, sys.getrecursionlimit())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    assert before == after
