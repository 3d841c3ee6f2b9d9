"""A bounded schemathesis run over every operation of docs/openapi.yaml against the real product
(every module, the market simulator, a real SQLite file) served by hypercorn on loopback, as a
signed-in user (`x-user-id`) and as the admin (bearer token): no 5xx, every status, content type
and body as the spec says, every request the spec forbids refused and every request it allows
accepted. Control characters, lengths and ranges are in the spec's schemas; what no schema can say
(graph validity, tiers, the clock) is a business rule whose documented 422 code is named in
`BUSINESS_RULES`, the only refusals of schema-valid data the run accepts.

The runtime runs in its own thread with its own event loop (schemathesis's pytest integration is
synchronous); the spec is the index with each fragment's paths and schemas inlined.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import hypothesis
import jsonschema_rs
import msgspec
import pytest
import requests
import schemathesis
import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from clash.config import Secrets, load_config
from clash.runtime import boot
from clash.system import serve_runtime

DOCS = Path(__file__).resolve().parents[2] / "docs"
ADMIN_TOKEN = "fuzz-admin-token"
USER = "fuzz-user"
IDENTITIES = {
    "user": {"x-user-id": USER},
    "admin": {"authorization": f"Bearer {ADMIN_TOKEN}", "x-admin-name": "fuzz-admin"},
}
EXAMPLES = int(os.environ.get("CLASH_FUZZ_EXAMPLES", "8"))
"""Per operation and identity: about a minute for the whole run on 2 cores; raise it to search harder.
Generation is derandomized, so a run is repeatable."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def bundled_spec() -> dict[str, Any]:
    """docs/openapi.yaml with every path item and component schema of the fragments inlined."""
    index = yaml.safe_load((DOCS / "openapi.yaml").read_text())
    fragments: dict[str, dict[str, Any]] = {}
    paths, schemas = {}, {}
    for path, item in index["paths"].items():
        file = item["$ref"].partition("#")[0]
        if file not in fragments:
            fragments[file] = yaml.safe_load((DOCS / file).read_text())
            schemas |= fragments[file].get("components", {}).get("schemas", {})
        paths[path] = fragments[file]["paths"][path]
    index["paths"] = paths
    index["components"]["schemas"] = schemas
    return index


class LoopbackServer:
    """The product booted on a tmp data dir and served on 127.0.0.1, in a thread of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = ""
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="clash-fuzz-server", daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        if not self._ready.wait(60) or self._error:
            raise RuntimeError(f"the server did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            anyio.run(self._main, backend="asyncio")
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        config = load_config(environ={"CLASH_DATA_DIR": str(self.data_dir), "CLASH_PORT": "0"})
        config = msgspec.structs.replace(
            config, trading=msgspec.structs.replace(config.trading, engine="rules", demo_clone=True)
        )
        async with boot(config, Secrets(admin_token=ADMIN_TOKEN)) as rt:
            server = serve_runtime(rt)
            self.url = f"http://127.0.0.1:{server.port}"
            self._ready.set()
            while not self._stop.is_set():
                await anyio.sleep(0.05)
            await server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LoopbackServer]:
    with LoopbackServer(tmp_path_factory.mktemp("fuzz") / "var") as running:
        created = requests.post(
            f"{running.url}/api/v1/clones",
            json={"name": "Fuzzed"},
            headers=IDENTITIES["user"],
            timeout=10,
        )
        assert created.status_code == 201, created.text
        yield running


SPEC = bundled_spec()
SCHEMA = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": EXAMPLES,
                "mode": "all",
                "allow-extra-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@pytest.fixture(params=sorted(IDENTITIES))
def identity(request) -> dict[str, str]:
    return IDENTITIES[request.param]


BUSINESS_RULES = {
    "invalid_graph": "a pipeline that does not validate (node configs, edges, the clone's tier)",
    "invalid_choices": "basic choices that name neither assets nor a category",
    "model_strength_not_allowed": "a model strength above the clone's tier",
    "as_of_in_future": "an as_of_ms after the server's clock",
    "account_state_is_live": "prop-account state asked for at a past as_of_ms",
    "account_not_of_clone": "an account id that is not one of the clone's",
    "chain_not_allowed": "a chain id outside [auth] chain_ids",
    "malformed_message": "a SIWE message that does not follow EIP-4361's grammar",
    "invalid_cursor": "a cursor that is not an item of the list it pages",
}
"""422 codes of rules no JSON Schema can state: a schema-valid request refused with one of these is
accepted by the run. Every other refusal of schema-valid data (400, 415, 422 invalid_text,
invalid_number, ...) fails it: the spec must say what the edge refuses."""


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's `positive_data_acceptance`, except for a 422 naming a business rule and a
    refused `x-user-id` that schemathesis made up for the admin (a credential, not request data)."""
    code = _error_code(response)
    if response.status_code == 422 and code in BUSINESS_RULES:
        return None
    if code == "invalid_header" and "x-user-id" in response.json()["error"]["message"]:
        return None
    return positive_data_acceptance(ctx, response, case)


def invalid_data_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's `negative_data_rejection`, except for a body it calls negative that the
    operation's own schema accepts (it negates one branch of `anyOf: [Pipeline, {}]` into `null`,
    which the open branch allows and the validate route answers with its problems)."""
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.BODY):
        others = [loc for loc in ParameterLocation if loc != ParameterLocation.BODY]
        if not any(meta.is_negative_at(loc) for loc in others) and _body_schema_accepts(case):
            return None
    return negative_data_rejection(ctx, response, case)


def _body_schema_accepts(case: Any) -> bool:
    """Whether the body as sent is one the operation's schema allows (none, when optional)."""
    body = SPEC["paths"][case.operation.path][case.method.lower()].get("requestBody", {})
    content = body.get("content", {}).get("application/json")
    if content is None or not isinstance(content.get("schema"), dict):
        return False
    if not isinstance(case.body, (dict, list, str, int, float, bool, type(None))):
        return not body.get("required", False)  # no body sent
    schema = dict(content["schema"], components=SPEC["components"])
    return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(case.body))


def _integers_as_integers(value: Any) -> Any:
    """JSON Schema calls 791.0 an integer; the server decodes strictly and refuses a float where
    an integer belongs (422 invalid_body), as a typed client would never send one. The run sends
    integral floats as integers (for a `number` field they mean the same)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {key: _integers_as_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers_as_integers(item) for item in value]
    return value


@SCHEMA.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_the_spec_says(case, server, identity):
    if case.meta is not None and case.meta.generation.mode.is_positive:
        case.body = _integers_as_integers(case.body)
    case.call_and_validate(
        base_url=server.url,
        headers=identity,
        checks=[*CHECKS, invalid_data_refused, valid_data_accepted],
        excluded_checks=[negative_data_rejection, positive_data_acceptance],
        timeout=10,
    )


def test_resuming_a_clone_that_does_not_exist_is_404_like_pausing(server):
    for op in ("pause", "resume"):
        response = requests.post(
            f"{server.url}/api/v1/admin/trading/clones/999999/{op}",
            headers=IDENTITIES["admin"],
            timeout=10,
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "clone_not_found"


def test_an_id_beyond_64_bits_is_404_over_the_wire(server):
    response = requests.get(
        f"{server.url}/api/v1/clones/9223372036854775808", headers=IDENTITIES["user"], timeout=10
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("\u202eevil", "invalid_text"),
        ("a\u0000b", "invalid_text"),
        ("\u001b[31mred", "invalid_text"),
        ("two\nlines", "invalid_text"),
        ("tab\there", "invalid_text"),
        ("   ", "invalid_body"),
        ("", "invalid_body"),
    ],
)
def test_names_with_control_characters_or_empty_once_trimmed_are_refused(server, name, code):
    user = IDENTITIES["user"]
    before = requests.get(f"{server.url}/api/v1/clones", headers=user, timeout=10).json()
    response = requests.post(
        f"{server.url}/api/v1/clones", json={"name": name}, headers=user, timeout=10
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    clone_id = before[0]["id"]
    response = requests.patch(
        f"{server.url}/api/v1/clones/{clone_id}", json={"name": name}, headers=user, timeout=10
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    assert requests.get(f"{server.url}/api/v1/clones", headers=user, timeout=10).json() == before


def test_numbers_not_finite_or_beyond_64_bits_in_a_body_are_refused(server):
    for raw in (b'{"version": 1e999}', b'{"version": NaN}', b'{"version": 99999999999999999999}'):
        response = requests.post(
            f"{server.url}/api/v1/clones/2/pipeline/reset",
            data=raw,
            timeout=10,
            headers=IDENTITIES["user"] | {"content-type": "application/json"},
        )
        assert (
            response.status_code == 422 and response.json()["error"]["code"] == "invalid_number"
        ), raw
