"""A bounded schemathesis run over every operation of docs/openapi.yaml against the real product
(every module, the market simulator, a real SQLite file) served by hypercorn on loopback, as a
signed-in user (`x-user-id`) and as the admin (bearer token): no 5xx, every status, content type
and body as the spec says, and every request the spec forbids refused. (A request the spec allows
may still be refused by a rule no schema says, such as graph validity, tiers or control characters
in text: a documented 422.)

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
import msgspec
import pytest
import requests
import schemathesis
import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
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
    negative_data_rejection,
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


SCHEMA = schemathesis.openapi.from_dict(
    bundled_spec(),
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


@SCHEMA.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_the_spec_says(case, server, identity):
    case.call_and_validate(base_url=server.url, headers=identity, checks=CHECKS, timeout=10)


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
