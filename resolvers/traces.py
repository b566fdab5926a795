"""``requestTrace(id)``: the stored trace of one of the caller's own requests.

Looked up by request ID *and* the caller's company, so another company's request (or a
request ID that is no one's) reads exactly like a missing one: null::

    { requestTrace(id: "01JD9Q6Y4B2X7T0M3N5P8R1S2V") { outcome errors { code message } } }
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.context import RequestContext
from schema.traces import RequestTrace
from storage.traces import TraceRepository

__all__ = ["request_trace"]

_MAX_REQUEST_ID = 128  # longer IDs are never kept: no need to ask the database


async def request_trace(
    info: Info[RequestContext, None],
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The request ID (X-Request-ID, extensions.requestId)."),
    ],
) -> RequestTrace | None:
    request_id = str(id)
    if not request_id or len(request_id) > _MAX_REQUEST_ID:
        return None
    context = info.context
    record = await TraceRepository(context.database).latest(
        request_id, company_id=context.principal.company_id
    )
    return None if record is None else RequestTrace.from_record(record)
