"""The gateway's only way to the credentials backend (its REST API, ``openapi.yaml``).

Three layers, one per module:

* :mod:`backend.transport`: :class:`BackendTransport`, kept-alive HTTP/1.1 connections
  on asyncio protocols, parsed by httptools (a quarter of aiohttp's CPU per call);
* :mod:`backend.client`: :class:`BackendClient`, one connection pool per process:
  the service account's JWT (:mod:`backend.tokens`), ``X-Request-ID``, retries with
  backoff (:mod:`backend.retry`), and DRF errors as :mod:`errors` exceptions;
* :mod:`backend.api`: :class:`CredentialsApi`, one typed coroutine per contract operation,
  returning the backend's JSON objects for the schema layer to whitelist.

Usage (the server builds one client at start-up and closes it at shutdown)::

    from backend import BackendClient, CredentialsApi

    async with BackendClient(settings) as client:
        api = CredentialsApi(client)
        badge = await api.get_badge(42)            # dict; BackendNotFound when missing
        ready = await client.ping()                # for /readyz

Tracing hook: ``BackendClient(settings, on_call=record)`` calls ``record(BackendCall(...))``
once per HTTP attempt.
"""

from backend.api import CredentialsApi, Record
from backend.client import BackendCall, BackendClient, CallObserver, format_path
from backend.tokens import TokenManager

__all__ = [
    "BackendCall",
    "BackendClient",
    "CallObserver",
    "CredentialsApi",
    "Record",
    "TokenManager",
    "format_path",
]
