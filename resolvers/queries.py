"""Resolvers of the partner queries. Every one is scoped to the caller's organization.

Reads of one record go through the request's loaders (which hide other organizations'
records); lists pass ``organization=`` to the backend and check each record again::

    badges(info, first=10)  # BadgeConnection of the caller's badges
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from errors import NotFound
from resolvers.context import RequestContext
from resolvers.ids import parse_badge_id, parse_credential_id
from resolvers.lookahead import selects
from resolvers.pagination import PageWindow, encode_cursor, fetch_window
from resolvers.validation import MAX_SEARCH, check_email, check_text
from schema.connections import (
    BadgeConnection,
    BadgeEdge,
    CredentialConnection,
    CredentialEdge,
    PageInfo,
)
from schema.scalars import BadgeStatus, CredentialStatus
from schema.types import Badge, Company, Credential, CredentialVerification, Viewer

__all__ = ["badge", "badges", "credential", "credentials", "verify_credential", "viewer"]

Ctx = Info[RequestContext, None]
N = TypeVar("N")
E = TypeVar("E")


def viewer(info: Ctx) -> Viewer:
    principal = info.context.principal
    return Viewer(
        company=Company(
            id=strawberry.ID(principal.company_id),
            name=principal.company_name,
            plan=principal.plan,
        ),
        organization_id=principal.organization_id,
    )


async def badge(
    info: Ctx, id: Annotated[strawberry.ID, strawberry.argument(description="The badge's ID.")]
) -> Badge | None:
    data = await info.context.loaders.badge(parse_badge_id(id))
    if data is None:
        raise NotFound("Badge not found.")
    return Badge.from_backend(data)


async def credential(
    info: Ctx,
    id: Annotated[strawberry.ID, strawberry.argument(description="The credential's ID.")],
) -> Credential | None:
    data = await info.context.loaders.credential(parse_credential_id(id))
    if data is None:
        raise NotFound("Credential not found.")
    return Credential.from_backend(data, info.context.loaders)


async def verify_credential(
    info: Ctx,
    id: Annotated[strawberry.ID, strawberry.argument(description="The credential's ID.")],
) -> CredentialVerification | None:
    context = info.context
    credential_id = parse_credential_id(id)
    # Verification answers for any credential; partners only verify their own.
    if await context.loaders.credential(credential_id) is None:
        raise NotFound("Credential not found.")
    return CredentialVerification.from_backend(await context.api.verify_credential(credential_id))


def _page_info(window: PageWindow, count: int, total: int) -> PageInfo:
    return PageInfo(
        has_next_page=window.offset + count < total,
        has_previous_page=window.offset > 0,
        start_cursor=encode_cursor(window.offset) if count else None,
        end_cursor=encode_cursor(window.offset + count - 1) if count else None,
    )


def _edges(info: Ctx, window: PageWindow, nodes: Sequence[N], edge: Callable[..., E]) -> list[E]:
    """The page's edges with their cursors, built only when the operation selects them."""
    if not selects(info, ("edges",)):
        return []  # never read: graphql-core only resolves what is selected
    return [edge(cursor=encode_cursor(window.offset + i), node=n) for i, n in enumerate(nodes)]


FIRST_DESCRIPTION = "How many to return (at most 100; default 20)."
AFTER_DESCRIPTION = "Return items after this cursor (a `pageInfo.endCursor`)."


async def badges(
    info: Ctx,
    first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
    after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    status: Annotated[
        BadgeStatus | None, strawberry.argument(description="Only badges in this status.")
    ] = None,
    search: Annotated[
        str | None,
        strawberry.argument(description="Case-insensitive match on name and description."),
    ] = None,
) -> BadgeConnection:
    context = info.context
    window = PageWindow.from_arguments(first, after, max_page_size=context.settings.max_page_size)
    if search is not None:
        search = check_text(search, field="search", max_length=MAX_SEARCH) or None

    async def fetch_page(page: int, page_size: int) -> dict[str, Any]:
        return await context.api.list_badges(
            organization=context.organization_id,
            page=page,
            page_size=page_size,
            status=str(status.value) if status else None,
            search=search,
        )

    records, total = await fetch_window(window, fetch_page)
    nodes = [Badge.from_backend(r) for r in records if r["organization"] == context.organization_id]
    return BadgeConnection(
        edges=_edges(info, window, nodes, BadgeEdge),
        nodes=nodes,
        page_info=_page_info(window, len(nodes), total),
        total_count=total,
    )


async def credentials(
    info: Ctx,
    first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
    after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    badge_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only credentials of this badge.")
    ] = None,
    recipient_email: Annotated[
        str | None, strawberry.argument(description="Only credentials issued to this email.")
    ] = None,
    status: Annotated[
        CredentialStatus | None, strawberry.argument(description="Only credentials in this status.")
    ] = None,
    issued_after: Annotated[
        date | None, strawberry.argument(description="Only credentials issued on or after this.")
    ] = None,
    issued_before: Annotated[
        date | None, strawberry.argument(description="Only credentials issued on or before this.")
    ] = None,
) -> CredentialConnection:
    context = info.context
    window = PageWindow.from_arguments(first, after, max_page_size=context.settings.max_page_size)
    badge = parse_badge_id(badge_id, field="badgeId") if badge_id is not None else None
    if recipient_email is not None:
        recipient_email = check_email(recipient_email, field="recipientEmail")

    async def fetch_page(page: int, page_size: int) -> dict[str, Any]:
        return await context.api.list_credentials(
            organization=context.organization_id,
            page=page,
            page_size=page_size,
            badge=badge,
            recipient_email=recipient_email,
            status=str(status.value) if status else None,
            issued_after=issued_after,
            issued_before=issued_before,
        )

    if badge is not None and await context.loaders.badge(badge) is None:
        # The backend answers 400 for a badge that does not exist and an empty page for
        # another organization's: answer both alike, so IDs of others can't be probed.
        records: Sequence[dict[str, Any]] = []
        total = 0
    else:
        records, total = await fetch_window(window, fetch_page)
    records = [r for r in records if r["organization"] == context.organization_id]
    badges: dict[int, Badge] = {}
    if records and selects(info, ("nodes", "badge"), ("edges", "node", "badge")):
        # One batch for the page, one Badge object per distinct badge.
        fetched = await context.loaders.badges([r["badge"] for r in records])
        badges = {badge_id: Badge.from_backend(data) for badge_id, data in fetched.items()}
    loaders = context.loaders
    nodes = [Credential.from_backend(r, loaders, badges.get(r["badge"])) for r in records]
    return CredentialConnection(
        edges=_edges(info, window, nodes, CredentialEdge),
        nodes=nodes,
        page_info=_page_info(window, len(nodes), total),
        total_count=total,
    )
