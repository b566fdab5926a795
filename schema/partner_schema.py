"""The curated partner schema: its root types, and the schema object built from them.

It is an Apollo Federation 2 subgraph (``@key`` on Badge, Credential, Organization;
``_entities`` through the same scoped loaders as every other field). Build it once per
process::

    schema = build_schema()
    schema.graphql_schema  # graphql-core's schema, executed by server.graphql_endpoint
"""

from __future__ import annotations

from typing import Final

import strawberry
from strawberry.federation import Schema
from strawberry.federation.schema_directives import Cost, ListSize

from resolvers import api_keys, mutations, queries, traces
from schema.api_key_mutations import RotateApiKeyPayload
from schema.connections import BadgeConnection, CredentialConnection
from schema.mutations import IssueCredentialPayload, RevokeCredentialPayload
from schema.sdl import serve_subgraph_sdl
from schema.traces import RequestTrace
from schema.types import Badge, Credential, CredentialVerification, Organization, Viewer

__all__ = ["FEDERATION_VERSION", "Mutation", "Query", "build_schema"]

# A connection's size is its `first` argument, and it sizes the connection's lists.
CONNECTION_SIZE = ListSize(
    assumed_size=None, slicing_arguments=["first"], sized_fields=["edges", "nodes"]
)
MUTATION_COST = Cost(weight=10)


@strawberry.type(description="Read the credentials of your organization.")
class Query:
    viewer: Viewer = strawberry.field(
        resolver=queries.viewer,
        description="The calling company and its organization. Reading it is free.",
        directives=[Cost(weight=0)],
    )
    badge: Badge | None = strawberry.field(
        resolver=queries.badge,
        description="One of your organization's badges. NOT_FOUND if there is no such badge.",
    )
    badges: BadgeConnection = strawberry.field(
        resolver=queries.badges,
        description="Your organization's badges, a page at a time.",
        directives=[CONNECTION_SIZE],
    )
    credential: Credential | None = strawberry.field(
        resolver=queries.credential,
        description="One credential your organization issued. NOT_FOUND if there is none.",
    )
    credentials: CredentialConnection = strawberry.field(
        resolver=queries.credentials,
        description="Credentials your organization issued, newest first, a page at a time.",
        directives=[CONNECTION_SIZE],
    )
    verify_credential: CredentialVerification | None = strawberry.field(
        resolver=queries.verify_credential,
        description="Check whether one of your credentials is currently valid.",
    )
    request_trace: RequestTrace | None = strawberry.field(
        resolver=traces.request_trace,
        description="What happened to one of your requests, by its request ID: kept for 14 "
        "days. Null for an unknown ID, or one that is not your company's.",
    )


@strawberry.type(
    description="Issue and revoke credentials, rotate API keys. Needs an API key with `write` "
    "scope (and `keys:manage` for rotateApiKey)."
)
class Mutation:
    issue_credential: IssueCredentialPayload = strawberry.field(
        resolver=mutations.issue_credential,
        description="Award one of your badges to a recipient. Pass an idempotencyKey to retry "
        "safely.",
        directives=[MUTATION_COST],
    )
    revoke_credential: RevokeCredentialPayload = strawberry.field(
        resolver=mutations.revoke_credential,
        description="Withdraw a credential your organization issued.",
        directives=[MUTATION_COST],
    )
    rotate_api_key: RotateApiKeyPayload = strawberry.field(
        resolver=api_keys.rotate_api_key,
        description="Replace one of your company's API keys by a new one (same scopes and "
        "expiry), returned once. The old key keeps working for graceSeconds. Needs the "
        "`keys:manage` scope.",
        directives=[MUTATION_COST],
    )


# Federation 2.9: the first with @cost and @listSize, and the newest that every router we
# document composes (The Guild's composition, used by Hive Gateway, stops at 2.9). Pinned,
# so a Strawberry upgrade cannot move the subgraph's @link on its own.
FEDERATION_VERSION: Final = "2.9"


def build_schema() -> Schema:
    schema = Schema(
        query=Query,
        mutation=Mutation,
        types=[Organization],
        federation_version=FEDERATION_VERSION,
    )
    serve_subgraph_sdl(schema)  # `_service { sdl }` is GET /graphql/subgraph.graphql's text
    return schema
