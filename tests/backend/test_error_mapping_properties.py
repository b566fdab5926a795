"""The backend client's final answer → gateway error mapping, property-tested with Hypothesis.

Whatever status and body the backend answers with, the client raises one typed error
whose code is a documented one, and nothing of the body reaches a partner's message;
test_client.py checks the same against the running sample backend, one case at a time.
"""

from __future__ import annotations

import json
import math

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from backend.client import _detail, _final_error, _status_error
from backend.retry import CONNECT_TIMEOUT, CONNECTION_ERROR, INVALID_JSON, READ_TIMEOUT
from errors import (
    BackendConflict,
    BackendError,
    BackendNotFound,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    BackendValidationError,
    error_code,
    public_message,
)

WHERE = "GET /api/v1/badges/{id}/"
SECRET = "internal_meta s3://credentials-prod-pdfs/org-1 10.0.0.5"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.just(b"<html><body>" + SECRET.encode() + b"</body></html>")
    | st.just(orjson.dumps({"detail": SECRET, "internal_meta": SECRET}))
)
retry_afters = st.none() | st.floats(min_value=0, allow_nan=False) | st.just(math.inf)
error_statuses = st.integers(min_value=300, max_value=599)

_PUBLIC = {
    "BACKEND_UNAVAILABLE": BackendUnavailable.default_message,
    "BACKEND_TIMEOUT": BackendTimeout.default_message,
    "NOT_FOUND": BackendNotFound.default_message,
    "INTERNAL_SERVER_ERROR": BackendRejected.default_message,
}


def _assert_partner_safe(error: BackendError, raw: bytes) -> None:
    """A documented code, its fixed message, and nothing of the body in either."""
    code = error_code(error)
    assert code in _PUBLIC
    assert public_message(error) == _PUBLIC[code]
    text = raw.decode("utf-8", "replace")
    if len(text.strip()) >= 8:
        assert text not in public_message(error)
    assert SECRET not in public_message(error)


@given(error_statuses, bodies, retry_afters)
@example(500, b"<html>" + SECRET.encode() + b"</html>", None)
@example(400, b"[]", None)
@example(400, b"null", None)
@example(429, b"", math.inf)
def test_every_status_maps_to_its_typed_error(
    status: int, raw: bytes, retry_after: float | None
) -> None:
    error = _status_error(WHERE, status, raw, retry_after)
    _assert_partner_safe(error, raw)
    if status >= 500:
        assert type(error) is BackendUnavailable
        assert SECRET not in str(error)  # an HTML error page is never even logged
    elif status == 429:
        assert type(error) is BackendUnavailable
        assert error.retry_after == retry_after
    elif status == 400:
        _assert_validation_error(error, raw)
    elif status == 404:
        assert type(error) is BackendNotFound and error_code(error) == "NOT_FOUND"
    elif status == 409:
        assert type(error) is BackendConflict and error.status == 409
    else:
        assert type(error) is BackendRejected and error.status == status
        assert error_code(error) == "INTERNAL_SERVER_ERROR"


def _assert_validation_error(error: BackendError, raw: bytes) -> None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        assert isinstance(error, BackendValidationError) and error.field_errors == body
    elif isinstance(body, list):
        assert isinstance(error, BackendValidationError)
        assert error.field_errors == {"non_field_errors": body}
    else:
        assert type(error) is BackendRejected and error.status == 400
    assert error_code(error) == "INTERNAL_SERVER_ERROR"  # outside a mutation: the gateway's


@given(
    st.sampled_from([CONNECT_TIMEOUT, READ_TIMEOUT, CONNECTION_ERROR, INVALID_JSON])
    | st.text(max_size=20),
    st.integers(min_value=0, max_value=599),
    bodies,
)
def test_every_failure_without_an_answer_is_unavailable_or_a_timeout(
    failure: str, status: int, raw: bytes
) -> None:
    error = _final_error(WHERE, status, raw, failure, None)
    _assert_partner_safe(error, raw)
    expected = BackendTimeout if failure in {CONNECT_TIMEOUT, READ_TIMEOUT} else BackendUnavailable
    assert type(error) is expected


@given(bodies)
def test_the_logged_detail_is_short_and_never_raises(raw: bytes) -> None:
    detail = _detail(raw)
    assert isinstance(detail, str) and len(detail) <= 500
