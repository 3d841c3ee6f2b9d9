"""Clone routes: CRUD, the draft pipeline, versions, diff, fork, entitlements, profiles, moderation.

Handlers decode, call the clones module and encode; every rule lives in clash.clones. Module
errors carry a code that clash.http.errors maps to a status. The draft pipeline's revision is
its ETag: send `If-Match` on a write to refuse it when someone saved in between (412).
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.clones import (
    BasicChoices,
    ClonePatch,
    ClonesModule,
    Layout,
    Name,
    Note,
    Pipeline,
    ProfileIn,
    Reason,
    ReportIn,
    TierId,
    ValidationReport,
    VersionRef,
    decode_pipeline,
    graph_errors,
    tiers,
)
from clash.http.auth import current_user, require_admin, require_user
from clash.http.bodies import (
    check_name,
    check_values,
    decode_body,
    decode_optional_body,
    json_bytes,
    json_response,
    query_int,
)
from clash.http.errors import ApiError


class CreateClone(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name


class PublishBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    note: Note = ""


class ForkBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=1)] | None = None
    name: Name | None = None


class ResetBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Annotated[int, Meta(ge=1)]


class TierGrant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tier: TierId
    reason: Reason


class AdminReason(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class BasicView(msgspec.Struct, frozen=True):
    clone_id: int
    basic: BasicChoices | None
    """None when the draft was edited beyond what Basic mode can show."""


def _clones(request: Request) -> ClonesModule:
    return request.app.state.runtime.module(ClonesModule)


def _id(request: Request) -> int:
    return request.path_params["clone_id"]


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not re.fullmatch("[0-9]{1,18}", value):
        raise ApiError(
            400, "invalid_if_match", f'If-Match must be a draft revision such as "3", got {raw!r}'
        )
    return int(value)


def _with_etag(response: Response, revision: int) -> Response:
    response.headers["etag"] = f'"{revision}"'
    return response


# ---------------------------------------------------------------- clones


async def list_clones(request: Request) -> Response:
    user = await require_user(request)
    archived = request.query_params.get("include_archived", "false")
    if archived not in ("true", "false"):
        raise ApiError(
            422, "invalid_query", f"include_archived must be true or false, got {archived[:40]!r}"
        )
    return json_response(
        await _clones(request).list_clones(user, include_archived=archived == "true")
    )


async def create_clone(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_body(request, CreateClone)
    check_name(body.name, "$.name")
    return json_response(await _clones(request).create_clone(user, body.name), status=201)


async def get_clone(request: Request) -> Response:
    return json_response(
        await _clones(request).get_clone(await current_user(request), _id(request))
    )


async def update_clone(request: Request) -> Response:
    user = await require_user(request)
    patch = await decode_body(request, ClonePatch)
    check_name(patch.name if isinstance(patch.name, str) else None, "$.name")
    return json_response(await _clones(request).update_clone(user, _id(request), patch))


async def archive_clone(request: Request) -> Response:
    user = await require_user(request)
    return json_response(await _clones(request).archive_clone(user, _id(request)))


# ---------------------------------------------------------------- pipeline


async def _decoded_pipeline(request: Request) -> Pipeline:
    pipeline, problems = decode_pipeline(await json_bytes(request))
    if pipeline is None:
        first = graph_errors(problems)[0]
        where = f"node {first.node_id}, " if first.node_id else ""
        raise ApiError(
            422,
            "invalid_graph",
            f"the pipeline does not decode: {where}{first.field}: {first.message}",
            problems,
        )
    check_values(pipeline)
    return pipeline


async def get_pipeline(request: Request) -> Response:
    user = await require_user(request)
    view = await _clones(request).get_pipeline(user, _id(request))
    return _with_etag(json_response(view), view.revision)


async def put_pipeline(request: Request) -> Response:
    user = await require_user(request)
    expected = _if_match(request)
    pipeline = await _decoded_pipeline(request)
    view = await _clones(request).save_pipeline(
        user, _id(request), pipeline, expected_revision=expected
    )
    return _with_etag(json_response(view), view.revision)


async def validate_pipeline(request: Request) -> Response:
    """Always 200 when the clone is readable: the report says whether a save would pass."""
    user = await require_user(request)
    pipeline, problems = decode_pipeline(await json_bytes(request))
    clones = _clones(request)
    if pipeline is None:
        tier = (await clones.get_clone(user, _id(request))).tier
        return json_response(
            ValidationReport(ok=False, tier=tier, active_assets=[], problems=problems)
        )
    check_values(pipeline)
    return json_response(await clones.validate_pipeline(user, _id(request), pipeline))


async def put_layout(request: Request) -> Response:
    user = await require_user(request)
    expected = _if_match(request)
    layout = await decode_body(request, Layout)
    view = await _clones(request).save_layout(
        user, _id(request), layout, expected_revision=expected
    )
    return _with_etag(json_response(view), view.revision)


async def get_basic(request: Request) -> Response:
    user = await require_user(request)
    choices = await _clones(request).read_basic(user, _id(request))
    return json_response(BasicView(clone_id=_id(request), basic=choices))


async def put_basic(request: Request) -> Response:
    user = await require_user(request)
    expected = _if_match(request)
    choices = await decode_body(request, BasicChoices)
    view = await _clones(request).save_basic(
        user, _id(request), choices, expected_revision=expected
    )
    return _with_etag(json_response(view), view.revision)


async def reset_draft(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_body(request, ResetBody)
    view = await _clones(request).reset_draft(user, _id(request), body.version)
    return _with_etag(json_response(view), view.revision)


# ---------------------------------------------------------------- versions, diff, fork


async def list_versions(request: Request) -> Response:
    return json_response(
        await _clones(request).list_versions(await current_user(request), _id(request))
    )


async def publish(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_optional_body(request, PublishBody, PublishBody())
    return json_response(await _clones(request).publish(user, _id(request), body.note), status=201)


async def get_version(request: Request) -> Response:
    version = request.path_params["version"]
    return json_response(
        await _clones(request).get_version(await current_user(request), _id(request), version)
    )


def _ref(request: Request, name: str) -> VersionRef:
    raw = request.query_params.get(name)
    if raw is None:
        raise ApiError(422, "invalid_query", f"{name} is required: a version number or 'draft'")
    if raw == "draft":
        return raw
    if re.fullmatch("[0-9]{1,18}", raw) and int(raw) >= 1:
        return int(raw)
    raise ApiError(422, "invalid_query", f"{name} must be a version number or 'draft', got {raw!r}")


async def diff(request: Request) -> Response:
    a, b = _ref(request, "from"), _ref(request, "to")
    return json_response(
        await _clones(request).diff(await current_user(request), _id(request), a, b)
    )


async def fork(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_optional_body(request, ForkBody, ForkBody())
    check_name(body.name, "$.name")
    result = await _clones(request).fork(user, _id(request), version=body.version, name=body.name)
    return json_response(result, status=201)


# ---------------------------------------------------------------- entitlements


async def list_tiers(request: Request) -> Response:
    return json_response(list(tiers().values()))


async def get_entitlements(request: Request) -> Response:
    user = await require_user(request)
    return json_response(await _clones(request).entitlement(user, _id(request)))


async def grant_tier(request: Request) -> Response:
    admin = require_admin(request)
    body = await decode_body(request, TierGrant)
    view = await _clones(request).grant_tier(
        _id(request), body.tier, source="admin", granted_by=admin, reason=body.reason
    )
    return json_response(view)


# ---------------------------------------------------------------- profiles and moderation


async def get_owner_profile(request: Request) -> Response:
    user = await require_user(request)
    return json_response(await _clones(request).owner_profile(user, _id(request)))


async def put_profile(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_body(request, ProfileIn)
    return json_response(await _clones(request).put_profile(user, _id(request), body))


async def list_profiles(request: Request) -> Response:
    after = query_int(request, "after", 0)
    limit = query_int(request, "limit", 50, lo=1, hi=200)
    return json_response(await _clones(request).list_public_profiles(after=after, limit=limit))


async def get_public_profile(request: Request) -> Response:
    return json_response(await _clones(request).public_profile(_id(request)))


async def report_profile(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_body(request, ReportIn)
    return json_response(
        await _clones(request).report_profile(user, _id(request), body), status=201
    )


async def moderation_queue(request: Request) -> Response:
    require_admin(request)
    limit = query_int(request, "limit", 50, lo=1, hi=200)
    return json_response(await _clones(request).moderation_queue(limit=limit))


async def retire_profile(request: Request) -> Response:
    admin = require_admin(request)
    body = await decode_body(request, AdminReason)
    return json_response(await _clones(request).retire_profile(admin, _id(request), body.reason))


async def reinstate_profile(request: Request) -> Response:
    admin = require_admin(request)
    body = await decode_body(request, AdminReason)
    return json_response(await _clones(request).reinstate_profile(admin, _id(request), body.reason))


_C = "/api/v1/clones/{clone_id:id}"

routes = [
    Route("/api/v1/clones", list_clones, methods=["GET"]),
    Route("/api/v1/clones", create_clone, methods=["POST"]),
    Route(_C, get_clone, methods=["GET"]),
    Route(_C, update_clone, methods=["PATCH"]),
    Route(f"{_C}/archive", archive_clone, methods=["POST"]),
    Route(f"{_C}/pipeline", get_pipeline, methods=["GET"]),
    Route(f"{_C}/pipeline", put_pipeline, methods=["PUT"]),
    Route(f"{_C}/pipeline/validate", validate_pipeline, methods=["POST"]),
    Route(f"{_C}/pipeline/layout", put_layout, methods=["PUT"]),
    Route(f"{_C}/pipeline/basic", get_basic, methods=["GET"]),
    Route(f"{_C}/pipeline/basic", put_basic, methods=["PUT"]),
    Route(f"{_C}/pipeline/reset", reset_draft, methods=["POST"]),
    Route(f"{_C}/versions", list_versions, methods=["GET"]),
    Route(f"{_C}/versions", publish, methods=["POST"]),
    Route(f"{_C}/versions/{{version:id}}", get_version, methods=["GET"]),
    Route(f"{_C}/diff", diff, methods=["GET"]),
    Route(f"{_C}/fork", fork, methods=["POST"]),
    Route(f"{_C}/entitlements", get_entitlements, methods=["GET"]),
    Route(f"{_C}/profile", get_owner_profile, methods=["GET"]),
    Route(f"{_C}/profile", put_profile, methods=["PUT"]),
    Route("/api/v1/entitlements/tiers", list_tiers, methods=["GET"]),
    Route("/api/v1/profiles", list_profiles, methods=["GET"]),
    Route("/api/v1/profiles/{clone_id:id}", get_public_profile, methods=["GET"]),
    Route("/api/v1/profiles/{clone_id:id}/reports", report_profile, methods=["POST"]),
    Route("/api/v1/admin/moderation/profiles", moderation_queue, methods=["GET"]),
    Route("/api/v1/admin/profiles/{clone_id:id}/retire", retire_profile, methods=["POST"]),
    Route("/api/v1/admin/profiles/{clone_id:id}/reinstate", reinstate_profile, methods=["POST"]),
    Route("/api/v1/admin/clones/{clone_id:id}/entitlements", grant_tier, methods=["PUT"]),
]
