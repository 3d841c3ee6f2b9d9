"""docs/openapi/clones.yaml describes every clone route (a text check: no YAML dependency)."""

import re
from pathlib import Path

from clash.http.routes.clones import routes

SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "clones.yaml"


def documented() -> set[tuple[str, str]]:
    found, path = set(), None
    for line in SPEC.read_text().splitlines():
        if m := re.fullmatch(r"  \"?(/api/[^\"\s]+)\"?:", line):
            path = m[1]
        elif re.fullmatch(r"\S.*", line):
            path = None
        elif path and (m := re.fullmatch(r"    (get|put|post|patch|delete):", line)):
            found.add((m[1].upper(), path))
    return found


def test_every_route_is_in_the_openapi_fragment():
    served = {
        (method, re.sub(r":\w+}", "}", r.path)) for r in routes for method in r.methods - {"HEAD"}
    }
    assert served == documented()
