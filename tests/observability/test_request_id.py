import re
import time

from hypothesis import given
from hypothesis import strategies as st

from observability.request_id import crockford_base32, new_request_id, request_id_from_header


def test_new_ids_are_time_ordered_and_unique() -> None:
    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert [i[:10] for i in ids] == sorted(i[:10] for i in ids)


def test_a_safe_client_id_is_kept() -> None:
    assert request_id_from_header("order-42_retry.1") == "order-42_retry.1"


@given(st.text(min_size=1, max_size=200))
def test_unsafe_client_ids_are_replaced(value: str) -> None:
    result = request_id_from_header(value)
    if re.fullmatch(r"[A-Za-z0-9._-]{1,128}", value):
        assert result == value
    else:
        assert re.fullmatch(r"[0-9A-Z]{26}", result)


def test_new_ids_encode_the_millisecond_clock_in_crockford_base32() -> None:
    before = time.time_ns() // 1_000_000
    request_id = new_request_id()
    after = time.time_ns() // 1_000_000
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for char in request_id:
        value = value * 32 + alphabet.index(char)
    assert before <= value >> 80 <= after


@given(st.integers(min_value=0, max_value=2**130 - 1))
def test_crockford_base32_round_trips(value: int) -> None:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    encoded = crockford_base32(value)
    assert len(encoded) == 26
    decoded = 0
    for char in encoded:
        decoded = decoded * 32 + alphabet.index(char)
    assert decoded == value
