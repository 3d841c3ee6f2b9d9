"""docs/openapi.yaml covers every mounted route, and is what tools/openapi_index.py builds.

No YAML library: the index and the fragments are block-style YAML in a fixed shape (path keys
two spaces in, operations four), read here with a few lines of line scanning (or JSON).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

import pytest

from clash.http.app import all_routes

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
INDEX = DOCS / "openapi.yaml"
OPERATIONS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

_KEY = re.compile(
    r'^(?P<indent> *)(?P<key>"(?:[^"\\]|\\.)*"|[^\s#"\'-][^#]*?)\s*:(?:\s+(?P<value>.*))?$'
)


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "openapi_index", ROOT / "tools" / "openapi_index.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _key(raw: str) -> str:
    return json.loads(raw) if raw.startswith('"') else raw


def _paths_block(text: str) -> dict[str, dict[str, str | None]]:
    """{path: {child key: inline value}} for the top-level `paths:` block of a block-YAML doc."""
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        return {
            p: {k: (v if isinstance(v, str) else None) for k, v in item.items()}
            for p, item in doc.get("paths", {}).items()
        }
    out: dict[str, dict[str, str | None]] = {}
    inside, current = False, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            inside = bool(m) and m["key"] == "paths"
            continue
        if not inside or not m:
            continue
        if indent == 2:
            current = _key(m["key"])
            assert current not in out, f"{current} twice under paths:"
            out[current] = {}
        elif indent == 4 and current is not None:
            value = m["value"]
            out[current][_key(m["key"])] = _key(value) if value else None
    return out


def _resolve(ref: str) -> tuple[Path, str]:
    """(fragment file, path key) of a `file#/paths/<escaped path>` reference."""
    file, _, fragment = ref.partition("#")
    tokens = [unquote(t).replace("~1", "/").replace("~0", "~") for t in fragment.split("/")]
    assert len(tokens) == 3 and tokens[0] == "" and tokens[1] == "paths", ref
    return (INDEX.parent / file), tokens[2]


def _template(path: str) -> str:
    """Starlette's `{name:converter}` as OpenAPI's `{name}`."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _mounted() -> dict[str, set[str]]:
    methods: dict[str, set[str]] = defaultdict(set)
    for route in all_routes():
        path, route_methods = getattr(route, "path", None), getattr(route, "methods", None)
        assert path is not None and route_methods is not None, f"not a Route: {route!r}"
        methods[_template(path)] |= {m.lower() for m in route_methods} - {"head"}
    return dict(methods)


@pytest.fixture(scope="module")
def index() -> dict[str, dict[str, str | None]]:
    return _paths_block(INDEX.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documented(index) -> dict[str, set[str]]:
    """{path: operations} as defined in the fragments the index points at."""
    cache: dict[Path, dict[str, dict[str, str | None]]] = {}
    out = {}
    for path, item in index.items():
        ref = item.get("$ref")
        assert ref, f"{path}: the index entry is not a $ref"
        file, key = _resolve(ref)
        assert key == path, f"{path}: $ref points at {key}"
        assert file.is_file(), f"{path}: {file} does not exist"
        if file not in cache:
            cache[file] = _paths_block(file.read_text(encoding="utf-8"))
        assert key in cache[file], f"{path}: {file.name} does not define it"
        out[path] = set(cache[file][key]) & OPERATIONS
    return out


def test_every_mounted_route_is_in_the_index_with_its_methods(documented):
    missing = []
    for path, methods in sorted(_mounted().items()):
        if path not in documented:
            missing.append(f"{path}: not in docs/openapi.yaml")
        elif methods - documented[path]:
            missing.append(f"{path}: {sorted(methods - documented[path])} not in its fragment")
    assert not missing, "\n".join(missing)


def test_documented_operations_of_mounted_paths_exist(documented):
    """A documented method on a mounted path must be served (unmounted paths, e.g. a module
    whose routes are not in all_routes() yet, are not checked)."""
    mounted = _mounted()
    extra = [
        f"{path}: {sorted(ops - mounted[path])}"
        for path, ops in sorted(documented.items())
        if path in mounted and ops - mounted[path]
    ]
    assert not extra, "documented but not served:\n" + "\n".join(extra)


def test_every_index_entry_has_operations(documented):
    assert all(documented.values()), [p for p, ops in documented.items() if not ops]


def test_the_index_is_up_to_date():
    tool = _load_tool()
    assert INDEX.read_text(encoding="utf-8") == tool.build_index(), (
        "docs/openapi.yaml is stale: run python tools/openapi_index.py"
    )


def test_pointer_escaping():
    tool = _load_tool()
    assert tool.pointer("/a/{b}~c") == "/paths/~1a~1{b}~0c"
    file, key = _resolve("openapi/x.yaml#" + tool.pointer("/a/{b}~c"))
    assert key == "/a/{b}~c" and file == DOCS / "openapi" / "x.yaml"


def _operations(text: str) -> dict[tuple[str, str], tuple[bool, set[str]]]:
    """{(path, method): (has a request body, documented statuses)} of a block-YAML fragment."""
    out: dict[tuple[str, str], tuple[bool, set[str]]] = {}
    path = op = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            path = op = None
        elif m := re.fullmatch(r'  "?(/[^"]*)"?:', line):
            path, op = m[1], None
        elif path and (m := re.fullmatch(r"    (get|put|post|patch|delete):", line)):
            op = m[1]
            out[(path, op)] = (False, set())
        elif path and op and line == "      requestBody:":
            out[(path, op)] = (True, out[(path, op)][1])
        elif path and op and (m := re.fullmatch(r'        "?(\d{3})"?:', line)):
            out[(path, op)][1].add(m[1])
    return out


def _fragment_operations() -> dict[tuple[str, str], tuple[bool, set[str]]]:
    found: dict[tuple[str, str], tuple[bool, set[str]]] = {}
    for file in sorted((DOCS / "openapi").glob("*.yaml")):
        found |= _operations(file.read_text(encoding="utf-8"))
    return found


def test_every_operation_lists_what_the_edge_answers():
    """A JSON body can be malformed (400), too large (413), not JSON (415) or invalid (422); an id
    beyond 18 digits is 404: the spec says so wherever the server can answer it."""
    operations = _fragment_operations()
    missing = []
    for route in all_routes():
        path = _template(route.path)
        for method in sorted(route.methods - {"HEAD"}):
            has_body, statuses = operations[(path, method.lower())]
            want = ({"400", "413", "415", "422"} if has_body else set()) | (
                {"404"} if ":id}" in route.path else set()
            )
            if want - statuses:
                missing.append(f"{method} {path}: {sorted(want - statuses)}")
    assert not missing, "\n".join(missing)


def test_every_module_error_code_is_documented():
    from clash.http.errors import MODULE_STATUS

    text = "".join(f.read_text(encoding="utf-8") for f in (DOCS / "openapi").glob("*.yaml"))
    assert [code for code in MODULE_STATUS if code not in text] == []
