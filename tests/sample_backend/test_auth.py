"""JWT authentication: obtain, refresh, expiry, revocation, and the 401/403 shapes."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest

from sample_backend.config import BackendConfig
from tests.fixtures.sample_backend import SampleBackend, StartSampleBackend
from tests.sample_backend.conftest import obtain_access

KEY = BackendConfig().signing_key
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
NOT_STAFF = {"detail": "You do not have permission to perform this action."}


def _token_not_valid(message: str = "Token is invalid or expired") -> dict[str, object]:
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    }


def _forge(token_type: str = "access", *, exp_delta: int = 300, key: str = KEY) -> str:
    now = int(time.time())
    payload = {
        "token_type": token_type,
        "exp": now + exp_delta,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": 1,
    }
    return jwt.encode(payload, key, algorithm="HS256")


def _get_badge(http: httpx.Client, backend: SampleBackend, token: str) -> httpx.Response:
    return http.get(f"{backend.url}/api/v1/badges/1/", headers={"Authorization": f"Bearer {token}"})


# --------------------------------------------------------------------------- obtain


def test_obtain_pair_returns_simplejwt_tokens(
    anon: httpx.Client, sample_backend: SampleBackend
) -> None:
    response = anon.post(
        "/api/token/",
        json={"username": sample_backend.username, "password": sample_backend.password},
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["refresh", "access"]
    assert jwt.get_unverified_header(body["access"])["alg"] == "HS256"
    access = jwt.decode(body["access"], KEY, algorithms=["HS256"])
    refresh = jwt.decode(body["refresh"], KEY, algorithms=["HS256"])
    assert list(access) == ["token_type", "exp", "iat", "jti", "user_id"]
    assert access["token_type"] == "access"
    assert refresh["token_type"] == "refresh"
    assert access["exp"] - access["iat"] == 300
    assert refresh["exp"] - refresh["iat"] == 86400
    assert access["user_id"] == refresh["user_id"] == 1
    assert len(access["jti"]) == 32
    assert access["jti"] != refresh["jti"]


def test_bad_credentials_are_401(anon: httpx.Client, sample_backend: SampleBackend) -> None:
    response = anon.post(
        "/api/token/", json={"username": sample_backend.username, "password": "nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    unknown = anon.post("/api/token/", json={"username": "nobody", "password": "x"})
    assert unknown.status_code == 401


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        ({"password": "x"}, {"username": ["This field is required."]}),
        ({"username": "", "password": "x"}, {"username": ["This field may not be blank."]}),
        ({"username": None, "password": "x"}, {"username": ["This field may not be null."]}),
        ({"username": ["a"], "password": "x"}, {"username": ["Not a valid string."]}),
        ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        (None, {"non_field_errors": ["No data provided"]}),
    ],
)
def test_obtain_validation_errors(
    anon: httpx.Client, body: object, errors: dict[str, list[str]]
) -> None:
    response = anon.post(
        "/api/token/", content=_json(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == errors


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def test_obtain_with_broken_json_is_a_parse_error(anon: httpx.Client) -> None:
    response = anon.post(
        "/api/token/", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    }


def test_obtain_with_another_media_type_is_415(anon: httpx.Client) -> None:
    response = anon.post(
        "/api/token/", content=b"username=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_obtain_accepts_a_form_body(anon: httpx.Client, sample_backend: SampleBackend) -> None:
    form = {"username": sample_backend.username, "password": sample_backend.password}
    response = anon.post("/api/token/", data=form)
    assert response.status_code == 200
    assert set(response.json()) == {"refresh", "access"}


def test_token_endpoint_only_accepts_post(anon: httpx.Client) -> None:
    response = anon.get("/api/token/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}
    assert response.headers["Allow"] == "POST, OPTIONS"


# --------------------------------------------------------------------------- refresh


def test_refresh_gives_a_working_access_token(
    anon: httpx.Client, sample_backend: SampleBackend
) -> None:
    pair = anon.post(
        "/api/token/",
        json={"username": sample_backend.username, "password": sample_backend.password},
    ).json()
    response = anon.post("/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access"]
    claims = jwt.decode(body["access"], KEY, algorithms=["HS256"])
    assert claims["token_type"] == "access"
    assert claims["user_id"] == 1
    assert _get_badge(anon, sample_backend, body["access"]).status_code == 200


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("garbage", "Token is invalid or expired"),
        (_forge("refresh", exp_delta=-10), "Token is invalid or expired"),
        (
            _forge("refresh", key="another-key-of-at-least-thirty-two-bytes!!"),
            "Token is invalid or expired",
        ),
        (_forge("access"), "Token has wrong type"),
    ],
)
def test_refresh_rejects_bad_tokens(anon: httpx.Client, token: str, detail: str) -> None:
    response = anon.post("/api/token/refresh/", json={"refresh": token})
    assert response.status_code == 401
    assert response.json() == {"detail": detail, "code": "token_not_valid"}


def test_refresh_requires_the_field(anon: httpx.Client) -> None:
    response = anon.post("/api/token/refresh/", json={})
    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


# --------------------------------------------------------------------------- using tokens


def test_missing_credentials_are_401(anon: httpx.Client) -> None:
    for path in ("/api/v1/badges/", "/api/v1/badges/1/", "/api/v1/organizations/1/"):
        response = anon.get(path)
        assert response.status_code == 401
        assert response.json() == NOT_PROVIDED
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    basic = anon.get("/api/v1/badges/", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401
    assert basic.json() == NOT_PROVIDED


def test_authentication_comes_before_the_method_check(anon: httpx.Client) -> None:
    assert anon.put("/api/v1/badges/1/").status_code == 401


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-jwt", "Token is invalid or expired"),
        (_forge(exp_delta=-1), "Token is invalid or expired"),
        (_forge(key="another-key-of-at-least-thirty-two-bytes!!"), "Token is invalid or expired"),
        (_forge("refresh"), "Token has wrong type"),
    ],
)
def test_invalid_access_tokens_are_401(anon: httpx.Client, token: str, message: str) -> None:
    response = anon.get("/api/v1/badges/1/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == _token_not_valid(message)


def test_a_bearer_header_without_a_token_is_401(anon: httpx.Client) -> None:
    response = anon.get("/api/v1/badges/1/", headers={"Authorization": "Bearer"})
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authorization header must contain two space-delimited values",
        "code": "bad_authorization_header",
    }


def test_the_non_staff_user_is_403_everywhere(viewer: httpx.Client) -> None:
    calls = [
        viewer.get("/api/v1/organizations/1/"),
        viewer.get("/api/v1/badges/"),
        viewer.get("/api/v1/badges/1/"),
        viewer.get("/api/v1/credentials/"),
        viewer.post("/api/v1/credentials/", json={}),
        viewer.get(f"/api/v1/credentials/{uuid.uuid4()}/verify/"),
    ]
    for response in calls:
        assert response.status_code == 403
        assert response.json() == NOT_STAFF


# --------------------------------------------------------------------------- lifetimes, revocation


def test_lifetimes_and_credentials_are_configurable(
    http: httpx.Client, start_sample_backend: StartSampleBackend
) -> None:
    backend = start_sample_backend(
        "--access-lifetime", "0", "--username", "svc-test", "--password", "pw-test"
    )
    assert (backend.username, backend.password) == ("svc-test", "pw-test")
    refused = http.post(
        f"{backend.url}/api/token/",
        json={"username": "gateway-service", "password": "sample-backend-password"},
    )
    assert refused.status_code == 401
    pair = http.post(
        f"{backend.url}/api/token/", json={"username": "svc-test", "password": "pw-test"}
    ).json()
    # A zero lifetime makes every access token expired on arrival...
    assert _get_badge(http, backend, pair["access"]).json() == _token_not_valid()
    # ...while the refresh token still works (and yields another born-expired token).
    refreshed = http.post(f"{backend.url}/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    assert _get_badge(http, backend, refreshed.json()["access"]).status_code == 401


def test_revoke_tokens_invalidates_access_tokens(
    http: httpx.Client, start_sample_backend: StartSampleBackend
) -> None:
    backend = start_sample_backend()
    pair = http.post(
        f"{backend.url}/api/token/",
        json={"username": backend.username, "password": backend.password},
    ).json()
    assert _get_badge(http, backend, pair["access"]).status_code == 200  # now cached as verified
    backend.revoke_tokens()
    assert _get_badge(http, backend, pair["access"]).json() == _token_not_valid()
    fresh = obtain_access(http, backend, backend.username, backend.password)
    assert _get_badge(http, backend, fresh).status_code == 200
    refreshed = http.post(f"{backend.url}/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    backend.revoke_tokens(refresh=True)
    assert _get_badge(http, backend, fresh).status_code == 401
    again = http.post(f"{backend.url}/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert again.status_code == 401
    assert again.json() == {"detail": "Token is invalid or expired", "code": "token_not_valid"}
