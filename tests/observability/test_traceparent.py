"""W3C traceparent parsing and formatting: round trips, and every malformed header refused."""

from __future__ import annotations

import asyncio

from hypothesis import example, given
from hypothesis import strategies as st

from observability.trace_context import bind_trace, current_trace, trace_headers
from observability.traceparent import (
    FLAG_RANDOM,
    FLAG_SAMPLED,
    MAX_TRACESTATE_LENGTH,
    MAX_TRACESTATE_MEMBERS,
    TraceContext,
    child_span,
    clean_tracestate,
    format_traceparent,
    new_trace,
    parse_traceparent,
)

HEX = "0123456789abcdef"
trace_ids = st.text(HEX, min_size=32, max_size=32).filter(lambda s: s != "0" * 32)
span_ids = st.text(HEX, min_size=16, max_size=16).filter(lambda s: s != "0" * 16)
flags = st.integers(0, 255)
VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@given(trace_ids, span_ids, flags)
def test_format_then_parse_gives_the_same_context(trace_id: str, span_id: str, flag: int) -> None:
    context = TraceContext(trace_id, span_id, flag)
    header = format_traceparent(context)
    assert len(header) == 55
    assert parse_traceparent(header) == context
    assert format_traceparent(parse_traceparent(header)) == header  # type: ignore[arg-type]


def test_the_specifications_example() -> None:
    context = parse_traceparent(VALID, "congo=t61rcWkgMzE")
    assert context == TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1, "congo=t61rcWkgMzE"
    )
    assert context.sampled
    assert not parse_traceparent(VALID.replace("-01", "-00")).sampled  # type: ignore[union-attr]


def _corruptions(header: str) -> st.SearchStrategy[str]:
    """The valid header with one character replaced, removed or added."""
    positions = st.integers(0, len(header) - 1)
    replaced = st.tuples(positions, st.characters()).map(
        lambda p: header[: p[0]] + p[1] + header[p[0] + 1 :]
    )
    removed = positions.map(lambda i: header[:i] + header[i + 1 :])
    added = st.tuples(positions, st.characters()).map(
        lambda p: header[: p[0]] + p[1] + header[p[0] :]
    )
    return st.one_of(replaced, removed, added)


@given(_corruptions(VALID))
@example(VALID.upper())
@example("00-00000000000000000000000000000000-00f067aa0ba902b7-01")  # all-zero trace ID
@example("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")  # all-zero span ID
@example("ff" + VALID[2:])  # the forbidden version
@example("10" + VALID[2:])  # a later version: read, and answered as 00
@example(VALID + "-extra")  # version 00 has nothing after the flags
@example("")
def test_a_malformed_header_is_refused(header: str) -> None:
    parsed = parse_traceparent(header)
    if parsed is None:
        return
    # The only corruptions that may parse are ones that still spell a valid header: a hex
    # digit replaced by another (in the version too: a later version is read for the
    # fields of 00, and answered as 00), or surrounding blanks.
    header = header.strip(" \t")
    assert header[:2] != "ff"
    assert format_traceparent(parsed) == "00" + header[2:]


@given(st.text(HEX, min_size=2, max_size=2).filter(lambda v: v not in ("00", "ff")))
def test_a_later_version_is_read_for_the_fields_it_shares(version: str) -> None:
    future = version + VALID[2:]
    assert parse_traceparent(future + "-more-fields") == parse_traceparent(VALID)
    assert parse_traceparent(future) == parse_traceparent(VALID)
    assert parse_traceparent(future + "x") is None  # more fields must follow a dash


def test_a_child_keeps_the_trace_and_gets_a_new_span() -> None:
    parent = parse_traceparent(VALID.replace("-01", "-ff"), "a=1")
    assert parent is not None
    child = child_span(parent)
    assert (child.trace_id, child.parent_id, child.tracestate) == (
        parent.trace_id,
        parent.span_id,
        "a=1",
    )
    assert child.span_id != parent.span_id and len(child.span_id) == 16
    assert child.flags == FLAG_SAMPLED | FLAG_RANDOM  # unknown flags are not passed on


def test_a_new_trace_has_random_ids_and_says_whether_it_is_sampled() -> None:
    one, two = new_trace(sampled=True), new_trace(sampled=False)
    assert one.trace_id != two.trace_id and len(one.trace_id) == 32
    assert one.sampled and not two.sampled
    assert one.flags & FLAG_RANDOM and one.parent_id is None
    assert parse_traceparent(format_traceparent(one)) == one


@given(
    st.lists(
        st.from_regex(r"[a-z][a-z0-9_-]{0,20}=[\x21-\x2b\x2d-\x3c\x3e-\x7e]{1,40}", fullmatch=True)
    )
)
def test_tracestate_is_kept_opaque_but_bounded(members: list[str]) -> None:
    value = ",".join(members)
    cleaned = clean_tracestate(value)
    if not members:
        assert cleaned is None
        return
    assert cleaned is not None
    kept = cleaned.split(",")
    assert kept == members[: len(kept)]  # whole members, in order, from the start
    assert len(kept) <= MAX_TRACESTATE_MEMBERS
    assert len(cleaned) <= MAX_TRACESTATE_LENGTH
    if len(members) <= MAX_TRACESTATE_MEMBERS and len(value) <= MAX_TRACESTATE_LENGTH:
        assert cleaned == value


def test_tracestate_with_control_characters_or_non_ascii_is_dropped() -> None:
    assert clean_tracestate("a=1\r\nX-Injected: yes") is None
    assert clean_tracestate("a=é") is None
    assert clean_tracestate(" a=1 , ,b=2 ") == "a=1,b=2"
    assert clean_tracestate("x=" + "y" * 600) is None


async def test_the_bound_trace_gives_the_backend_headers_per_request() -> None:
    assert trace_headers() == ()

    async def request(state: str | None) -> tuple[tuple[str, str], ...]:
        trace = new_trace(sampled=True)
        if state:
            trace = TraceContext(trace.trace_id, trace.span_id, trace.flags, state)
        token = bind_trace(trace)
        try:
            await asyncio.sleep(0)  # interleave with the other request
            assert current_trace() is trace
            return trace_headers()
        finally:
            token.var.reset(token)

    plain, with_state = await asyncio.gather(request(None), request("v=1"))
    assert [name for name, _ in plain] == ["traceparent"]
    assert with_state[1] == ("tracestate", "v=1")
    assert parse_traceparent(plain[0][1]) is not None
    assert current_trace() is None
