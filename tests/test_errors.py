from graphql import GraphQLError

from errors import (
    BackendNotFound,
    BackendTimeout,
    BackendUnavailable,
    BackendValidationError,
    BadUserInput,
    GatewayError,
    NotFound,
    Unauthenticated,
    error_code,
    graphql_error_code,
    graphql_error_message,
    public_message,
)


def test_every_gateway_error_has_its_code() -> None:
    assert error_code(Unauthenticated()) == "UNAUTHENTICATED"
    assert error_code(NotFound()) == "NOT_FOUND"
    assert error_code(BadUserInput("x")) == "BAD_USER_INPUT"
    assert error_code(BackendUnavailable("refused")) == "BACKEND_UNAVAILABLE"
    assert error_code(BackendTimeout("slow")) == "BACKEND_TIMEOUT"
    assert error_code(BackendNotFound("gone")) == "NOT_FOUND"
    assert error_code(ValueError("bug")) == "INTERNAL_SERVER_ERROR"


def test_backend_details_stay_in_logs() -> None:
    error = BackendUnavailable("GET http://10.0.0.5/api/v1/badges/ answered <html>503</html>")
    assert "10.0.0.5" in str(error)
    assert public_message(error) == BackendUnavailable.default_message
    assert public_message(KeyError("internal_meta")) == GatewayError.default_message
    assert BackendValidationError({"internal_meta": ["bad"]}).public_message == (
        "Internal server error."
    )


def test_resolver_errors_map_through_their_original_exception() -> None:
    wrapped = GraphQLError("x", path=["badge"], original_error=NotFound("Badge not found."))
    assert graphql_error_code(wrapped) == "NOT_FOUND"
    assert graphql_error_message(wrapped) == "Badge not found."
    bug = GraphQLError("'NoneType' has no attribute", path=["badge"], original_error=TypeError())
    assert graphql_error_code(bug) == "INTERNAL_SERVER_ERROR"
    assert graphql_error_message(bug) == "Internal server error."


def test_variable_coercion_errors_are_the_callers_input() -> None:
    inner = GraphQLError("Int cannot represent non-integer value: 'x'")
    error = GraphQLError("Variable '$n' has invalid value", original_error=inner)
    assert graphql_error_code(error) == "BAD_USER_INPUT"
    assert graphql_error_message(error) == "Variable '$n' has invalid value"


def test_variable_errors_carry_no_suggestions_and_no_pages_of_input() -> None:
    error = GraphQLError(
        "Variable '$s' got invalid value 'PUBLISHE'; Value 'PUBLISHE' does not exist in "
        "'BadgeStatus' enum. Did you mean the enum value 'PUBLISHED'?" + "x" * 1000
    )
    message = graphql_error_message(error)
    assert "Did you mean" not in message
    assert len(message) <= 300
