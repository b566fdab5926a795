"""The input checks of resolvers.validation, property-tested with Hypothesis.

Whatever a partner sends, a check returns a well-formed value or raises ``BadUserInput``
naming the field, never repeating the value, never anything else. What it accepts the
backend accepts too: the sample backend's ports of Django's validators are the oracle.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from errors import BadUserInput
from resolvers.validation import (
    MAX_EMAIL,
    MAX_IDEMPOTENCY_KEY,
    MAX_NAME,
    MAX_REASON,
    MAX_URL,
    check_email,
    check_idempotency_key,
    check_text,
    check_url,
    has_control_characters,
)
from sample_backend.validation import is_valid_email, is_valid_url

_BIDI_CONTROLS = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_MULTI_LINE_ALLOWED = {"\t", "\n", "\r"}


def _is_refused(char: str, *, multi_line: bool = False) -> bool:
    """The module's rule, restated from Unicode's categories (an independent oracle)."""
    if multi_line and char in _MULTI_LINE_ALLOWED:
        return False
    category = unicodedata.category(char)
    return category in {"Cc", "Cs", "Zl", "Zp"} or char in _BIDI_CONTROLS


# Every character the checks refuse, and text without any of them.
refused_chars = st.sampled_from(
    sorted(
        {chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
        | {chr(c) for c in (0x2028, 0x2029, 0xD800, 0xDBFF, 0xDC00, 0xDFFF)}
        | _BIDI_CONTROLS
    )
)
plain_text = st.text(
    st.characters(codec="utf-8").filter(lambda c: not _is_refused(c)), min_size=1
).filter(lambda s: s.strip() == s and s != "")
any_text = st.text() | st.text(st.characters(max_codepoint=0xFF)) | st.text(refused_chars)


def _refused(check: Callable[[], object], field: str, value: str) -> BadUserInput:
    with pytest.raises(BadUserInput) as raised:
        check()
    error = raised.value
    assert error.field == field
    assert f"`{field}`" in error.public_message
    assert len(error.public_message) <= 120
    if len(value.strip()) >= 4:
        assert value.strip() not in error.public_message
    return error


def _answer(check: Callable[[], str | None]) -> str | BadUserInput | None:
    """What a check does with a value: its result or its BadUserInput (nothing else)."""
    try:
        return check()
    except BadUserInput as error:
        return error


# --------------------------------------------------------------------------- control characters


@given(st.characters(codec="utf-8") | refused_chars)
def test_the_refused_characters_are_the_control_characters(char: str) -> None:
    assert has_control_characters(char) == _is_refused(char)
    assert has_control_characters(char, multi_line=True) == _is_refused(char, multi_line=True)


# --------------------------------------------------------------------------- names, free text


@given(any_text, st.booleans())
@example("\x00", False)
@example("Ana\u202eanA", False)
@example("line one\nline two", True)
def test_text_is_stripped_short_and_clean_or_refused(value: str, multi_line: bool) -> None:
    answer = _answer(
        lambda: check_text(value, field="reason", max_length=MAX_REASON, multi_line=multi_line)
    )
    if isinstance(answer, BadUserInput):
        assert answer.field == "reason" and "`reason`" in answer.public_message
        return
    assert answer == value.strip()
    assert len(answer) <= MAX_REASON
    assert not any(_is_refused(c, multi_line=multi_line) for c in answer)


@given(plain_text.filter(lambda s: len(s) <= MAX_NAME), st.sampled_from(["", " ", "\n "]))
def test_clean_names_are_accepted_as_sent(name: str, padding: str) -> None:
    assert check_text(padding + name + padding, field="firstName", max_length=MAX_NAME) == name


@given(plain_text, plain_text, refused_chars)
def test_a_control_character_inside_is_always_refused(head: str, tail: str, char: str) -> None:
    value = head + char + tail
    assume(len(value) <= MAX_NAME)
    _refused(lambda: check_text(value, field="lastName", max_length=MAX_NAME), "lastName", value)


@given(st.integers(min_value=1, max_value=2000))
def test_over_length_text_is_refused(extra: int) -> None:
    value = "é" * (MAX_NAME + extra)
    error = _refused(
        lambda: check_text(value, field="firstName", max_length=MAX_NAME), "firstName", value
    )
    assert "150 characters" in error.public_message


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_a_blank_reason_is_refused(value: str) -> None:
    error = _refused(
        lambda: check_text(value, field="reason", min_length=1, max_length=MAX_REASON),
        "reason",
        value,
    )
    assert "1 to 500 characters" in error.public_message


# --------------------------------------------------------------------------- emails

local_parts = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True
)
good_emails = st.builds(
    lambda user, domain: f"{user}@{domain}", local_parts, domains(max_length=60)
)


@given(good_emails)
def test_well_formed_emails_are_accepted_as_sent(email: str) -> None:
    assert is_valid_email(email)  # the backend agrees it is an email
    assert check_email(email, field="recipient.email") == email
    assert check_email(f" {email}\n", field="recipient.email") == email


@given(st.emails() | any_text | st.builds("{}@{}".format, any_text, any_text))
@example("ana@example.co\x00")
@example("ana@exam\u202eple.co")
@example('"quoted\\\x01"@example.co')
@example("ana@" + "a" * 250 + ".co")
def test_an_accepted_email_is_one_the_backend_accepts(value: str) -> None:
    answer = _answer(lambda: check_email(value, field="recipientEmail"))
    stripped = value.strip()
    backend_accepts = (
        is_valid_email(stripped)
        and len(stripped) <= MAX_EMAIL
        and not has_control_characters(value.strip())
    )
    if isinstance(answer, BadUserInput):
        assert answer.field == "recipientEmail"
        assert not backend_accepts  # nothing the backend takes is refused
    else:
        assert answer == stripped
        assert backend_accepts


@given(good_emails, refused_chars, st.integers(min_value=1))
def test_a_control_character_in_an_email_is_refused(email: str, char: str, at: int) -> None:
    position = 1 + at % (len(email) - 1)
    value = email[:position] + char + email[position:]
    _refused(lambda: check_email(value, field="recipient.email"), "recipient.email", value)


@pytest.mark.parametrize(
    "value",
    ["", "not-an-email", "@example.com", "ana@", "ana@@example.com", "ana@example", "a b@c.co",
     "ana@-example.com", "ana@example.c", "a" * 250 + "@example.com"],
)  # fmt: skip
def test_malformed_emails_are_refused(value: str) -> None:
    _refused(lambda: check_email(value, field="recipient.email"), "recipient.email", value)


# --------------------------------------------------------------------------- evidence URLs

short_urls = urls().filter(lambda u: len(u) <= MAX_URL)


@given(short_urls)
def test_http_and_https_urls_are_accepted_as_sent(url: str) -> None:
    assert check_url(url, field="evidenceUrl") == url
    assert is_valid_url(url)  # and the backend takes them


@given(urls() | any_text | st.builds("https://{}".format, any_text))
@example("https://user:pw@example.com/")
@example("javascript:alert(1)//https://example.com")
@example("http://localhost/")
@example("https://example.com:0/")
@example("https://[::1/")
def test_an_accepted_url_is_http_without_credentials_and_the_backend_takes_it(value: str) -> None:
    answer = _answer(lambda: check_url(value, field="evidenceUrl"))
    if isinstance(answer, BadUserInput):
        assert answer.field == "evidenceUrl"
        return
    if answer is None:  # blank: no URL
        assert value.strip() == ""
        return
    assert answer == value.strip()
    assert len(answer) <= MAX_URL
    assert answer.split("://", 1)[0].lower() in {"http", "https"}
    assert "@" not in answer.split("://", 1)[1].split("/", 1)[0]
    assert not any(c.isspace() or _is_refused(c) for c in answer)
    assert is_valid_url(answer)


@given(short_urls, st.sampled_from(["javascript", "JavaScript", "data", "ftp", "ftps", "file",
                                     "vbscript", "gopher", "ws", "httpx"]))  # fmt: skip
def test_other_schemes_are_refused(url: str, scheme: str) -> None:
    value = scheme + url[url.index(":") :]
    assume(len(value) <= MAX_URL)  # a longer scheme can push it past the length limit
    error = _refused(lambda: check_url(value, field="evidenceUrl"), "evidenceUrl", value)
    assert "http or https" in error.public_message


@pytest.mark.parametrize(
    "value",
    ["javascript:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD4=",
     "JAVASCRIPT://example.com/%0aalert(1)", "//example.com/x", "example.com/x", "http:/x",
     "http:///x", "https://", "http://localhost/x", "http://example/x", "http://exa mple.com/",
     "https://example.com:99999/", "https://example.com:abc/", "http:\\\\example.com\\x"],
)  # fmt: skip
def test_malformed_urls_are_refused(value: str) -> None:
    _refused(lambda: check_url(value, field="evidenceUrl"), "evidenceUrl", value)


@given(short_urls, st.sampled_from(["user@", "user:secret@", ":@", "a%40b@", "good.com@"]))
def test_urls_with_userinfo_are_refused(url: str, userinfo: str) -> None:
    scheme, rest = url.split("://", 1)
    value = f"{scheme}://{userinfo}{rest}"
    assume(len(value) <= MAX_URL)
    error = _refused(lambda: check_url(value, field="evidenceUrl"), "evidenceUrl", value)
    assert "user name or password" in error.public_message


@given(short_urls, st.integers(min_value=1, max_value=5000))
def test_over_length_urls_are_refused(url: str, extra: int) -> None:
    value = url + ("/" if "?" not in url and "#" not in url else "") + "a" * (MAX_URL + extra)
    error = _refused(lambda: check_url(value, field="evidenceUrl"), "evidenceUrl", value)
    assert "200 characters" in error.public_message


@given(short_urls, refused_chars | st.sampled_from([" ", "\u00a0", "\u3000"]), st.integers(1))
def test_spaces_and_control_characters_in_urls_are_refused(url: str, char: str, at: int) -> None:
    position = 1 + at % (len(url) - 1)
    value = url[:position] + char + url[position:]
    _refused(lambda: check_url(value, field="evidenceUrl"), "evidenceUrl", value)


@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_url_is_no_url(value: str) -> None:
    assert check_url(value, field="evidenceUrl") is None


# --------------------------------------------------------------------------- idempotency keys


@given(any_text | plain_text)
def test_idempotency_keys_are_kept_exactly_or_refused(value: str) -> None:
    answer = _answer(lambda: check_idempotency_key(value))
    valid = 1 <= len(value) <= MAX_IDEMPOTENCY_KEY and not any(_is_refused(c) for c in value)
    if isinstance(answer, BadUserInput):
        assert not valid and answer.field == "idempotencyKey"
    else:
        assert valid and answer == value


@given(plain_text.filter(lambda s: len(s) < MAX_IDEMPOTENCY_KEY), refused_chars)
def test_idempotency_keys_with_control_characters_are_refused(key: str, char: str) -> None:
    value = key + char
    _refused(lambda: check_idempotency_key(value), "idempotencyKey", value)


@pytest.mark.parametrize("value", ["", "k" * (MAX_IDEMPOTENCY_KEY + 1), "k" * 100_000])
def test_empty_and_over_length_idempotency_keys_are_refused(value: str) -> None:
    error = _refused(lambda: check_idempotency_key(value), "idempotencyKey", value)
    assert "1 to 200 characters" in error.public_message
