"""The contract's endpoints: one function per operation of openapi.yaml.

Each view takes the application :class:`~sample_backend.context.State` and the request's
:class:`~sample_backend.context.Call` (already authenticated and authorized by the
dispatcher) and returns a :class:`~sample_backend.responses.Reply` or raises an
:class:`~sample_backend.responses.ApiError`::

    reply = badge_retrieve(state, call)   # Reply(200, b'{"id":5,...}')
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import orjson

from sample_backend.auth import WWW_AUTHENTICATE, TokenError
from sample_backend.context import Call, State
from sample_backend.data import SIGNATURE_ALG
from sample_backend.filters import parse_badge_query, parse_credential_query
from sample_backend.idempotency import MAX_KEY_LENGTH
from sample_backend.models import Credential
from sample_backend.pagination import paginate
from sample_backend.responses import JSON, ApiError, Reply, json_reply, not_found
from sample_backend.serializers import (
    badge_json,
    credential_json,
    format_datetime,
    organization_json,
)
from sample_backend.validation import (
    validate_credential_create,
    validate_refresh,
    validate_revoke,
    validate_token_obtain,
)

__all__ = [
    "View",
    "badge_list",
    "badge_retrieve",
    "credential_create",
    "credential_list",
    "credential_retrieve",
    "credential_revoke",
    "credential_verify",
    "organization_retrieve",
    "token_obtain_pair",
    "token_refresh",
]

View = Callable[[State, Call], Reply]


def _today() -> date:
    return datetime.now(UTC).date()


def _int_pk(param: str | None) -> int | None:
    """The pk Django would look up for a path segment, or None (a 404)."""
    if param is None:
        return None
    try:
        return int(param)
    except ValueError:
        return None


def _user_id(call: Call) -> int:
    if call.user is None:  # pragma: no cover - the dispatcher authenticates first
        raise ApiError.detail(401, "Authentication credentials were not provided.")
    return call.user.id


# --------------------------------------------------------------------------- tokens


def token_obtain_pair(state: State, call: Call) -> Reply:
    """POST /api/token/."""
    username, password = validate_token_obtain(call.data())
    user = state.tokens.check_password(username, password)
    if user is None:
        raise ApiError.detail(
            401,
            "No active account found with the given credentials",
            headers={"WWW-Authenticate": WWW_AUTHENTICATE},
        )
    return json_reply(200, state.tokens.obtain_pair(user))


def token_refresh(state: State, call: Call) -> Reply:
    """POST /api/token/refresh/."""
    refresh = validate_refresh(call.data())
    try:
        access = state.tokens.refresh(refresh)
    except TokenError as exc:
        raise ApiError.detail(
            401, exc.message, "token_not_valid", headers={"WWW-Authenticate": WWW_AUTHENTICATE}
        ) from None
    return json_reply(200, {"access": access})


# --------------------------------------------------------------------------- organizations


def organization_retrieve(state: State, call: Call) -> Reply:
    """GET /api/v1/organizations/{id}/."""
    pk = _int_pk(call.param)
    organization = state.store.organizations.get(pk) if pk is not None else None
    if organization is None:
        raise not_found()
    return Reply(200, organization_json(organization))


# --------------------------------------------------------------------------- badges


def badge_list(state: State, call: Call) -> Reply:
    """GET /api/v1/badges/."""
    store = state.store
    url = call.absolute_url
    body = store.cached_page(url, "badges")
    if body is None:
        query = parse_badge_query(call.params, store.organizations)
        page = paginate(store.find_badges(query), call.params, url)
        body = page.render([badge_json(badge) for badge in page.items])
        store.cache_page(url, "badges", body)
    return Reply(200, body)


def badge_retrieve(state: State, call: Call) -> Reply:
    """GET /api/v1/badges/{id}/."""
    pk = _int_pk(call.param)
    badge = state.store.badges.get(pk) if pk is not None else None
    if badge is None:
        raise not_found()
    return Reply(200, badge_json(badge))


# --------------------------------------------------------------------------- credentials


def credential_list(state: State, call: Call) -> Reply:
    """GET /api/v1/credentials/ (newest first)."""
    store = state.store
    url = call.absolute_url
    body = store.cached_page(url, "credentials")
    if body is None:
        query = parse_credential_query(call.params, store.organizations, store.badges)
        page = paginate(store.find_credentials(query), call.params, url)
        body = page.render([credential_json(credential) for credential in page.items])
        store.cache_page(url, "credentials", body)
    return Reply(200, body)


def credential_create(state: State, call: Call) -> Reply:
    """POST /api/v1/credentials/, honouring Idempotency-Key."""
    user_id = _user_id(call)
    key = call.idempotency_key
    if key is not None:
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError.detail(
                400, f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters."
            )
        stored = state.idempotency.get(user_id, key)
        if stored is not None:
            return Reply(stored[0], stored[1], JSON, {"Idempotent-Replayed": "true"})
    today = _today()
    data = validate_credential_create(call.data(), state.store.badges, today)
    credential = state.store.issue(data, user_id=user_id, today=today, idempotency_key=key)
    body = credential_json(credential)
    if key is not None:
        state.idempotency.put(user_id, key, 201, body)
    return Reply(201, body)


def _credential(state: State, call: Call) -> Credential:
    credential = state.store.get_credential(call.param) if call.param else None
    if credential is None:
        raise not_found()
    return credential


def credential_retrieve(state: State, call: Call) -> Reply:
    """GET /api/v1/credentials/{uuid}/."""
    return Reply(200, credential_json(_credential(state, call)))


def credential_revoke(state: State, call: Call) -> Reply:
    """POST /api/v1/credentials/{uuid}/revoke/ (409 when already revoked)."""
    credential = _credential(state, call)
    reason, notify = validate_revoke(call.data())
    if credential.status == "revoked":
        raise ApiError.detail(409, "Credential is already revoked.")
    state.store.revoke(credential, reason=reason, notify=notify, user_id=_user_id(call))
    return Reply(200, credential_json(credential))


def credential_verify(state: State, call: Call) -> Reply:
    """GET /api/v1/credentials/{uuid}/verify/."""
    credential = _credential(state, call)
    store = state.store
    organization = store.organizations[credential.organization]
    badge = store.badges[credential.badge]
    body = orjson.dumps(
        {
            "uuid": credential.uuid,
            "valid": credential.status == "active",
            "status": credential.status,
            "checked_at": format_datetime(datetime.now(UTC)),
            "issuer": orjson.Fragment(organization_json(organization)),
            "badge": orjson.Fragment(badge_json(badge)),
            "recipient_email_hash": credential.recipient.email_hash,
            "signature_alg": SIGNATURE_ALG,
            "signing_key_id": organization.signing_key_id,
        }
    )
    return Reply(200, body)
