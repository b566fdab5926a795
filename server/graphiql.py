"""The GraphiQL explorer page served at ``GET /graphql`` to browsers, without a key.

Strawberry's page, with the header editor pre-filled with the Authorization header a
partner needs and a first query to run::

    html = graphiql_html()  # bytes, built once at start-up
"""

from __future__ import annotations

import json

from strawberry.http.ides import get_graphql_ide_html

__all__ = ["graphiql_html"]

EXAMPLE_QUERY = """# Welcome to the credentials partner API.
# 1. Put your API key in the Headers tab below: {"Authorization": "Bearer <your key>"}
# 2. Press the play button (or Ctrl-Enter).
{
  viewer {
    company { name plan }
    organization { name country }
  }
  badges(first: 5) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name status level }
  }
}
"""
DEFAULT_HEADERS = '{\n  "Authorization": "Bearer <your API key>"\n}'


def graphiql_html() -> bytes:
    html = get_graphql_ide_html(graphql_ide="graphiql")
    html = html.replace(
        "React.useState(parameters.headers)",
        f"React.useState(parameters.headers || {json.dumps(DEFAULT_HEADERS)})",
    )
    html = html.replace(
        "parameters.q || EXAMPLE_QUERY", f"parameters.q || {json.dumps(EXAMPLE_QUERY)}"
    )
    html = html.replace(
        "defaultEditorToolsVisibility: true", "defaultEditorToolsVisibility: 'headers'"
    )
    return html.encode()
