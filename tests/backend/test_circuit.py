"""The circuit breaker's state machine, on a settable clock."""

from __future__ import annotations

import pytest

from backend.circuit import CircuitBreaker
from errors import BackendUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> str:
    return breaker.state  # read afresh: mypy narrows the property after an assert


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        probe = breaker.before_attempt("GET /x")
        breaker.record(succeeded=False, probe=probe)


def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=5.0, clock=clock)
    fail(breaker, 2)
    assert state_of(breaker) == "closed"
    fail(breaker, 1)
    assert state_of(breaker) == "open"
    clock.now += 2.0
    with pytest.raises(BackendUnavailable) as caught:
        breaker.before_attempt("GET /x")
    assert caught.value.retry_after == pytest.approx(3.0)
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    assert "circuit open" in str(caught.value)
    assert "circuit" not in caught.value.public_message


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=5.0, clock=Clock())
    fail(breaker, 2)
    breaker.before_attempt("GET /x")
    breaker.record(succeeded=True)
    fail(breaker, 2)
    assert state_of(breaker) == "closed"


def test_one_probe_after_the_reset_timeout_closes_it_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=clock)
    fail(breaker, 1)
    clock.now += 5.0
    assert state_of(breaker) == "half_open"
    assert breaker.before_attempt("GET /x") is True  # the probe
    with pytest.raises(BackendUnavailable):  # everyone else still fails fast
        breaker.before_attempt("GET /x")
    breaker.record(succeeded=True, probe=True)
    assert state_of(breaker) == "closed"
    breaker.before_attempt("GET /x")


def test_a_failed_probe_opens_it_for_another_reset_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=5.0, clock=clock)
    fail(breaker, 2)
    clock.now += 6.0
    fail(breaker, 1)  # the probe fails
    assert state_of(breaker) == "open"
    clock.now += 4.9
    with pytest.raises(BackendUnavailable):
        breaker.before_attempt("GET /x")
    clock.now += 0.1
    breaker.before_attempt("GET /x")


def test_only_the_probe_decides_a_half_open_circuit() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=clock)
    fail(breaker, 1)
    clock.now += 5.0
    assert breaker.before_attempt("GET /x") is True  # the probe
    breaker.record(succeeded=False)  # a straggler started before the circuit opened
    assert state_of(breaker) == "half_open"  # still waiting for the probe's verdict
    with pytest.raises(BackendUnavailable):
        breaker.before_attempt("GET /x")
    breaker.record(succeeded=False, probe=True)
    assert state_of(breaker) == "open"
    clock.now += 5.0
    assert breaker.before_attempt("GET /x") is True


def test_a_closed_circuit_admits_attempts_that_are_not_probes() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=Clock())
    assert breaker.before_attempt("GET /x") is False


def test_failures_while_open_do_not_extend_the_wait() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=clock)
    fail(breaker, 1)
    clock.now += 4.0
    breaker.record(succeeded=False)  # a late failure of an attempt started earlier
    clock.now += 1.0
    assert breaker.before_attempt("GET /x") is True


@pytest.mark.parametrize(("threshold", "reset"), [(0, 1.0), (1, 0.0)])
def test_rejects_nonsense_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=threshold, reset_timeout=reset)
