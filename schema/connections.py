"""Cursor-paginated lists (Relay connections) of badges and credentials.

The backend pages by number; :mod:`resolvers.pagination` turns ``first``/``after`` into
backend pages and back::

    { badges(first: 10, after: "djE6OQ==") {
        totalCount pageInfo { hasNextPage endCursor } nodes { id } } }
"""

from __future__ import annotations

import strawberry

from schema.types import Badge, Credential

__all__ = ["BadgeConnection", "BadgeEdge", "CredentialConnection", "CredentialEdge", "PageInfo"]


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    has_previous_page: bool = strawberry.field(description="True when items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item: pass it as `after` for the next page."
    )


@strawberry.type(description="A badge and its cursor.")
class BadgeEdge:
    cursor: str = strawberry.field(description="Opaque position of this badge in the list.")
    node: Badge = strawberry.field(description="The badge.")


@strawberry.type(description="A page of badges.")
class BadgeConnection:
    edges: list[BadgeEdge] = strawberry.field(description="The badges with their cursors.")
    nodes: list[Badge] = strawberry.field(description="The badges of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination details.")
    total_count: int = strawberry.field(description="How many badges match, over all pages.")


@strawberry.type(description="A credential and its cursor.")
class CredentialEdge:
    cursor: str = strawberry.field(description="Opaque position of this credential in the list.")
    node: Credential = strawberry.field(description="The credential.")


@strawberry.type(description="A page of credentials, newest first.")
class CredentialConnection:
    edges: list[CredentialEdge] = strawberry.field(
        description="The credentials with their cursors."
    )
    nodes: list[Credential] = strawberry.field(description="The credentials of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination details.")
    total_count: int = strawberry.field(description="How many credentials match, over all pages.")
