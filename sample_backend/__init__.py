"""A fast, faithful sample of the credentials backend's REST contract.

Implements every path of ``/work/shared/backend/openapi.yaml`` the way the real Django REST
Framework + SimpleJWT service answers (status codes, error shapes, pagination, filters,
type-strict validation, internal fields), over seeded deterministic data, plus a test
control API under ``/__admin__/`` (fault injection, request recording, reset, token
revocation). Run it with ``python -m sample_backend`` or in-process with
:func:`sample_backend.app.create_app`.
"""

__all__: list[str] = []
