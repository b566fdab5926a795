import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadUserInput
from resolvers.ids import parse_badge_id, parse_credential_id

T = TypeVar("T")


def test_badge_ids_are_positive_integers() -> None:
    assert parse_badge_id("42") == 42


@pytest.mark.parametrize("value", ["", "-1", "1.5", "abc", "4 2", "../1", "\uff11\uff12", "9" * 20])
def test_malformed_badge_ids_are_bad_input(value: str) -> None:
    with pytest.raises(BadUserInput, match="badge ID"):
        parse_badge_id(value)


def test_credential_ids_are_normalised_uuids() -> None:
    value = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    assert parse_credential_id(value) == value.lower()


@pytest.mark.parametrize("value", ["", "abc", "../../admin", "6f9619ff-8b86-d011-b42d"])
def test_malformed_credential_ids_are_bad_input(value: str) -> None:
    with pytest.raises(BadUserInput, match="UUID"):
        parse_credential_id(value)


def _answer(parse: Callable[[], T]) -> T | BadUserInput:
    """What a parser does with a value: its result or its BadUserInput (nothing else)."""
    try:
        return parse()
    except BadUserInput as error:
        return error


def test_zero_is_no_badge_id() -> None:
    with pytest.raises(BadUserInput, match="positive integer"):
        parse_badge_id("0")


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_every_badge_id_round_trips(badge_id: int) -> None:
    assert parse_badge_id(str(badge_id)) == badge_id
    assert parse_badge_id(badge_id) == badge_id


@given(st.text() | st.text("0123456789-+ _\u0661\uff11", max_size=25))
def test_any_text_is_a_badge_id_of_digits_or_bad_input(value: str) -> None:
    badge_id = _answer(lambda: parse_badge_id(value, field="badgeId"))
    if isinstance(badge_id, BadUserInput):
        assert badge_id.field == "badgeId" and "`badgeId`" in badge_id.public_message
        return
    assert value.isascii() and value.isdigit()
    assert int(value) == badge_id and 0 < badge_id < 2**63


@given(st.uuids(), st.sampled_from([str, lambda u: str(u).upper(), lambda u: u.hex]))
def test_every_uuid_spelling_parses_to_its_canonical_form(
    value: uuid.UUID, spell: Callable[[uuid.UUID], str]
) -> None:
    assert parse_credential_id(spell(value)) == str(value)


@given(st.text() | st.text("0123456789abcdefABCDEF-{}_ :", min_size=30, max_size=40))
def test_any_text_is_a_canonical_uuid_or_bad_input(value: str) -> None:
    credential_id = _answer(lambda: parse_credential_id(value))
    if isinstance(credential_id, BadUserInput):
        assert credential_id.field == "id" and "UUID" in credential_id.public_message
        return
    assert credential_id == str(uuid.UUID(credential_id))  # canonical: lower case, hyphens
    assert credential_id.replace("-", "") == value.replace("-", "").lower()


@pytest.mark.parametrize(
    "value",
    [
        "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
        "urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff",
        " 6f9619ff-8b86-d011-b42d-00c04fc964ff",
        "6f9619ff8b86-d011-b42d-00c04fc964ff",
        "6f9619ff_8b86_d011_b42d_00c04fc964ff",
        "\uff16f9619ff-8b86-d011-b42d-00c04fc964ff",
    ],
)
def test_loose_uuid_spellings_are_bad_input(value: str) -> None:
    with pytest.raises(BadUserInput, match="UUID"):
        parse_credential_id(value)
