"""The retry policy: which failures are retried, backoff bounds, Retry-After parsing."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.retry import (
    CONNECT_TIMEOUT,
    CONNECTION_ERROR,
    READ_TIMEOUT,
    RETRY_STATUSES,
    UNAUTHORIZED,
    backoff_delay,
    is_retryable_method,
    parse_retry_after,
    reason_for_status,
    should_retry,
)

RETRYABLE = [CONNECTION_ERROR, CONNECT_TIMEOUT, "http_429", "http_502", "http_503", "http_504"]


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_retryable_statuses_have_a_reason(status: int) -> None:
    assert reason_for_status(status) == f"http_{status}"


@pytest.mark.parametrize("status", [200, 201, 301, 400, 401, 403, 404, 409, 500, 501, 505])
def test_other_statuses_are_final(status: int) -> None:
    assert reason_for_status(status) is None


@pytest.mark.parametrize("reason", RETRYABLE)
def test_get_is_retried_on_transient_failures(reason: str) -> None:
    assert should_retry("GET", reason, retries_done=0, max_retries=2)
    assert should_retry("GET", reason, retries_done=1, max_retries=2)
    assert not should_retry("GET", reason, retries_done=2, max_retries=2)
    assert not should_retry("GET", reason, retries_done=0, max_retries=0)


@pytest.mark.parametrize("reason", [READ_TIMEOUT, UNAUTHORIZED, "invalid_json", "client_error"])
def test_never_retried(reason: str) -> None:
    assert not should_retry("GET", reason, retries_done=0, max_retries=5, idempotent=True)


@pytest.mark.parametrize("reason", RETRYABLE)
def test_post_is_retried_only_with_an_idempotency_key(reason: str) -> None:
    assert not should_retry("POST", reason, retries_done=0, max_retries=2)
    assert should_retry("POST", reason, retries_done=0, max_retries=2, idempotent=True)


def test_no_reason_no_retry() -> None:
    assert not should_retry("GET", None, retries_done=0, max_retries=2)
    assert is_retryable_method("GET")
    assert not is_retryable_method("POST")
    assert is_retryable_method("POST", idempotent=True)


@given(
    retries_done=st.integers(min_value=-5, max_value=10_000),
    base=st.floats(min_value=0, max_value=100, allow_nan=False),
    cap=st.floats(min_value=0, max_value=1_000, allow_nan=False),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_is_full_jitter_within_bounds(
    retries_done: int, base: float, cap: float, draw: float
) -> None:
    delay = backoff_delay(retries_done, base=base, cap=cap, rand=lambda: draw)
    ceiling = min(cap, base * 2.0 ** min(max(retries_done, 0), 62))
    assert math.isfinite(delay)
    assert 0.0 <= delay <= cap
    assert delay <= ceiling
    assert delay == pytest.approx(ceiling * draw)


@given(retries_done=st.integers(min_value=0, max_value=20))
def test_backoff_ceiling_doubles_until_the_cap(retries_done: int) -> None:
    top = backoff_delay(retries_done, base=0.05, cap=5.0, rand=lambda: 1.0)
    assert top == pytest.approx(min(5.0, 0.05 * 2**retries_done))
    assert backoff_delay(retries_done, base=0.05, cap=5.0, rand=lambda: 0.0) == 0.0


def test_backoff_uses_real_randomness_by_default() -> None:
    delays = {backoff_delay(3, base=1.0, cap=100.0) for _ in range(50)}
    assert len(delays) > 1
    assert all(0.0 <= d <= 8.0 for d in delays)


@given(seconds=st.integers(min_value=0, max_value=10**12))
def test_retry_after_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)
    assert parse_retry_after(f"  {seconds} ") == float(seconds)


@given(value=st.text(max_size=40))
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    parsed = parse_retry_after(value, now=1_700_000_000.0)
    assert parsed is None or parsed >= 0


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7.0)
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now=now) == 0.0
    # A date needs a "now" to be relative to.
    assert parse_retry_after(formatdate(now + 7, usegmt=True)) is None


@pytest.mark.parametrize("value", [None, "", " ", "soon", "-1", "nan", "1,5", "Mon, 99 Foo"])
def test_retry_after_unreadable(value: str | None) -> None:
    assert parse_retry_after(value, now=0.0) is None


def test_retry_after_huge_or_fractional() -> None:
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("9" * 40) == math.inf
    assert parse_retry_after("inf") == math.inf
