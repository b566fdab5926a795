import pytest

from errors import BadUserInput
from resolvers.ids import parse_badge_id, parse_credential_id


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
