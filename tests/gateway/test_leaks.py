"""Nothing internal reaches a partner: every field of the schema, scanned.

The ``gateway`` fixture also scans every response of the session when it ends.
"""

from __future__ import annotations

import json

from tests.fixtures.gateway import Gateway, backend_get, data, find_leaks
from tests.fixtures.sample_backend import SampleBackend

EVERYTHING = """query($id: ID!, $credential: ID!) {
  viewer { company { id name plan } organization { id name slug country website logoUrl createdAt } }
  badges(first: 100) { totalCount nodes { ...badge } }
  badge(id: $id) { ...badge }
  credentials(first: 100) { totalCount edges { cursor node { ...credential } } }
  credential(id: $credential) { ...credential }
  verifyCredential(id: $credential) { id valid status checkedAt issuerName badgeName }
}
fragment badge on Badge { id name description criteria imageUrl level durationHours language
  skills { name escoUri } status issuedCount createdAt updatedAt }
fragment credential on Credential { id status issuedOn expiresOn revokedAt revocationReason
  evidenceUrl publicUrl createdAt recipient { email firstName lastName } badge { ...badge } }
"""


def test_the_scanner_finds_what_the_backend_would_leak(gateway_backend: SampleBackend) -> None:
    raw = backend_get(gateway_backend, "/api/v1/credentials/", organization=1, page_size=5)
    leaks = find_leaks(json.dumps(raw))
    assert {"created_by", "pdf_s3_key", "national_id", "internal_meta"} <= set(leaks)


def test_every_public_field_carries_nothing_internal(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    credential = backend_get(gateway_backend, "/api/v1/credentials/", organization=1)["results"][0]
    response = gateway.post(
        EVERYTHING, {"id": str(credential["badge"]), "credential": credential["uuid"]}
    )
    result = data(response)
    assert len(result["credentials"]["edges"]) == 100
    assert find_leaks(response.text) == []
