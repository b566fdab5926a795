from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from resolvers.user_errors import (
    ISSUE_CREDENTIAL_FIELDS,
    REVOKE_CREDENTIAL_FIELDS,
    user_errors_from_drf,
)


def test_nested_recipient_errors_point_into_the_input() -> None:
    errors = user_errors_from_drf(
        {"recipient": {"email": ["Enter a valid email address."]}}, ISSUE_CREDENTIAL_FIELDS
    )
    assert [(e.field, e.message, e.code) for e in errors] == [
        (["input", "recipient", "email"], "Enter a valid email address.", "BAD_USER_INPUT")
    ]


def test_unknown_badge_is_not_found_on_badge_id() -> None:
    errors = user_errors_from_drf(
        {"badge": ['Invalid pk "99" - object does not exist.']}, ISSUE_CREDENTIAL_FIELDS
    )
    assert errors[0].field == ["input", "badgeId"]
    assert errors[0].code == "NOT_FOUND"


def test_non_field_errors_use_partner_field_names() -> None:
    errors = user_errors_from_drf(
        {"non_field_errors": ["expires_on must be after issued_on."]}, ISSUE_CREDENTIAL_FIELDS
    )
    assert errors[0].field == ["input"]
    assert errors[0].message == "expiresOn must be after issuedOn."


def test_backend_only_fields_are_never_named() -> None:
    errors = user_errors_from_drf(
        {"internal_meta": ["bad value for s3_image_key"]}, ISSUE_CREDENTIAL_FIELDS
    )
    assert [(e.field, e.message) for e in errors] == [(None, "Invalid input.")]


# DRF's error bodies: field names (the partner's, the backend's own, anything) to a list
# of messages or, for a nested serializer, to another such dictionary.
_KNOWN = sorted({*ISSUE_CREDENTIAL_FIELDS, *REVOKE_CREDENTIAL_FIELDS, "non_field_errors"})
_INTERNAL = ["internal_meta", "pdf_s3_key", "created_by", "national_id", "blockchain_tx"]
field_names = st.sampled_from(_KNOWN + _INTERNAL) | st.text(max_size=20)
messages = st.text(max_size=2000) | st.sampled_from(
    ["Enter a valid URL.", 'Invalid pk "7" - object does not exist.', "expires_on is bad."]
)
drf_errors = st.recursive(
    st.dictionaries(field_names, st.lists(messages, max_size=3) | messages, max_size=4),
    lambda children: st.dictionaries(field_names, children, max_size=3),
    max_leaves=10,
)


@given(drf_errors, st.sampled_from([ISSUE_CREDENTIAL_FIELDS, REVOKE_CREDENTIAL_FIELDS]))
def test_any_drf_body_becomes_short_user_errors_that_name_only_partner_fields(
    errors: dict[str, Any], names: Mapping[str, str]
) -> None:
    result = user_errors_from_drf(errors, names)
    assert result  # a 400 is never answered with no error at all
    partner_names = set(names.values())
    for error in result:
        assert error.code in {"BAD_USER_INPUT", "NOT_FOUND"}
        assert len(error.message) <= 300
        if error.field is not None:
            assert error.field[0] == "input"
            assert set(error.field[1:]) <= partner_names
        for internal in _INTERNAL:
            assert internal not in (error.field or [])
