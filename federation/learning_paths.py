"""A second, tiny subgraph for the federation proof: the learning paths a badge belongs to.

It stands for another team's service behind the same router. It owns ``LearningPath`` and
adds ``learningPaths`` to the partner gateway's ``Badge`` entity (same ``@key``), and its
paths point back at badges, which the router then resolves through the partner gateway's
``_entities``: scoped to the caller's organization, so another organization's badge on a
path is null. Serve it with uvicorn::

    uvicorn federation.learning_paths:app --port 4002
    curl -X POST localhost:4002/graphql -H 'Content-Type: application/json' \\
      -d '{"query": "{ _service { sdl } }"}'

It reads no key and calls no backend: its data is a fixed table of badge IDs (the sample
backend's: organization 1 has badges 1-32, organization 2 has 33-60).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import strawberry
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from strawberry.federation.schema_directives import ListSize
from strawberry.types.unset import UNSET

__all__ = ["PATHS", "Badge", "LearningPath", "app", "schema"]


@dataclass(frozen=True)
class PathRecord:
    id: str
    name: str
    hours: int
    badge_ids: tuple[int, ...]


PATHS: tuple[PathRecord, ...] = (
    PathRecord("lp-data", "Data foundations", 40, (1, 2, 3)),
    PathRecord("lp-cloud", "Cloud practitioner", 60, (2, 4, 5)),
    # A path across two organizations' badges: a partner sees only its own on it.
    PathRecord("lp-joint", "Joint programme", 80, (1, 33)),
)

# Lists here are short; tell a router's demand control so (the IBM cost spec, as the
# partner gateway's own fields do). UNSET, not None: left out of the SDL rather than
# printed as null, which The Guild's composition refuses.
SHORT_LIST = ListSize(assumed_size=3, slicing_arguments=UNSET, sized_fields=UNSET)


@strawberry.federation.type(keys=["id"], description="A badge, as the partner API has it.")
class Badge:
    id: strawberry.ID = strawberry.field(description="The badge's ID.")

    @strawberry.field(
        description="The learning paths this badge belongs to.", directives=[SHORT_LIST]
    )
    def learning_paths(self) -> list[LearningPath]:
        return [LearningPath.from_record(p) for p in PATHS if int(self.id) in p.badge_ids]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)


@strawberry.type(description="A sequence of badges to earn, in order.")
class LearningPath:
    id: strawberry.ID = strawberry.field(description="The path's ID.")
    name: str = strawberry.field(description="The path's name.")
    hours: int = strawberry.field(description="Hours of learning, all badges together.")
    badge_ids: strawberry.Private[tuple[int, ...]]

    @strawberry.field(
        description="The badges on the path, in order; null for one you cannot see.",
        directives=[SHORT_LIST],
    )
    def badges(self) -> list[Badge | None]:
        return [Badge(id=strawberry.ID(str(badge_id))) for badge_id in self.badge_ids]

    @classmethod
    def from_record(cls, record: PathRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            hours=record.hours,
            badge_ids=record.badge_ids,
        )


@strawberry.type(description="Learning paths.")
class Query:
    @strawberry.field(description="Every learning path.", directives=[SHORT_LIST])
    def learning_paths(self) -> list[LearningPath]:
        return [LearningPath.from_record(p) for p in PATHS]

    @strawberry.field(description="One learning path; null if there is no such path.")
    def learning_path(self, id: strawberry.ID) -> LearningPath | None:
        found = next((p for p in PATHS if p.id == id), None)
        return None if found is None else LearningPath.from_record(found)


schema = Schema(query=Query, types=[Badge], federation_version="2.9")  # as the gateway's
app = GraphQL[None, None](schema, graphql_ide=None)
