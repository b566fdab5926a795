from resolvers.user_errors import ISSUE_CREDENTIAL_FIELDS, user_errors_from_drf


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
