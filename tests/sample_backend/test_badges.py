"""Organizations and badges: retrieve, pagination, filters, search and ids= batches."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sample_backend.data import build_seed
from tests.fixtures.sample_backend import SampleBackend

SEED = build_seed()
ORG_BADGES = {
    org.id: [badge.id for badge in SEED.badges if badge.organization == org.id]
    for org in SEED.organizations
}
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def _all_ids(api: httpx.Client, **params: str | int) -> list[int]:
    ids: list[int] = []
    url: str | None = "/api/v1/badges/"
    query: dict[str, str | int] | None = {**params, "page_size": 100}
    while url is not None:
        body = api.get(url, params=query).json()
        ids += [badge["id"] for badge in body["results"]]
        url, query = body["next"], None
    return ids


# --------------------------------------------------------------------------- organizations


def test_organization_retrieve_has_every_field(api: httpx.Client) -> None:
    response = api.get("/api/v1/organizations/1/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"] == 1
    assert body["name"] == "Universidad Andina de Bogotá"
    assert body["country"] == "CO"
    assert body["slug"] == "universidad-andina-bogota"
    assert body["stripe_customer_id"].startswith("cus_")
    assert body["billing_email"].endswith("@uandina.edu.co")
    assert isinstance(body["account_manager_id"], int)
    assert body["internal_notes"]
    assert body["created_at"].endswith("Z")
    assert [api.get(f"/api/v1/organizations/{n}/").json()["country"] for n in (2, 3)] == [
        "ES",
        "US",
    ]


@pytest.mark.parametrize("pk", ["4", "999", "abc", "-1"])
def test_unknown_organization_is_404(api: httpx.Client, pk: str) -> None:
    response = api.get(f"/api/v1/organizations/{pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_organizations_have_no_list(api: httpx.Client) -> None:
    assert api.get("/api/v1/organizations/").json() == {"detail": "Not found."}


# --------------------------------------------------------------------------- retrieve


def test_badge_retrieve_has_every_field(api: httpx.Client) -> None:
    body = api.get("/api/v1/badges/1/").json()
    assert body["id"] == 1
    assert body["organization"] == 1
    assert body["status"] == "published"
    assert body["language"] == "es-CO"
    assert body["s3_image_key"].startswith("s3://")
    assert body["template_engine_version"].startswith("badgeforge-tmpl/")
    assert isinstance(body["moderation_flags"], list)
    assert isinstance(body["created_by"], int)
    assert body["skills"]
    assert all(set(skill) == {"id", "name", "esco_uri"} for skill in body["skills"])
    assert body["issued_count"] == sum(1 for c in SEED.credentials if c.badge == 1)


def test_badge_ids_are_global_across_organizations(api: httpx.Client) -> None:
    assert ORG_BADGES[1][0] == 1
    assert api.get(f"/api/v1/badges/{ORG_BADGES[2][0]}/").json()["organization"] == 2
    assert not set(ORG_BADGES[1]) & set(ORG_BADGES[2])


@pytest.mark.parametrize("pk", ["0", "87", "abc"])
def test_unknown_badge_is_404(api: httpx.Client, pk: str) -> None:
    response = api.get(f"/api/v1/badges/{pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --------------------------------------------------------------------------- pagination


def test_first_page_has_drf_shape(api: httpx.Client, sample_backend: SampleBackend) -> None:
    body = api.get("/api/v1/badges/").json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == len(SEED.badges)
    assert [badge["id"] for badge in body["results"]] == list(range(1, 21))
    assert body["next"] == f"{sample_backend.url}/api/v1/badges/?page=2"
    assert body["previous"] is None


def test_links_keep_the_query_sorted_and_drop_page_one(
    api: httpx.Client, sample_backend: SampleBackend
) -> None:
    base = f"{sample_backend.url}/api/v1/badges/"
    page2 = api.get("/api/v1/badges/?status=published&organization=1&page_size=5&page=2").json()
    assert page2["next"] == f"{base}?organization=1&page=3&page_size=5&status=published"
    assert page2["previous"] == f"{base}?organization=1&page_size=5&status=published"
    page3 = api.get(page2["next"]).json()
    assert page3["previous"] == f"{base}?organization=1&page=2&page_size=5&status=published"


def test_links_follow_the_host_header(api: httpx.Client) -> None:
    body = api.get("/api/v1/badges/", headers={"Host": "backend.internal:8443"}).json()
    assert body["next"] == "http://backend.internal:8443/api/v1/badges/?page=2"


def test_walking_next_visits_every_badge_once(api: httpx.Client) -> None:
    assert _all_ids(api) == sorted(badge.id for badge in SEED.badges)


def test_last_page_and_page_past_the_end(api: httpx.Client) -> None:
    last = api.get("/api/v1/badges/", params={"page": "last", "page_size": 40}).json()
    assert [badge["id"] for badge in last["results"]] == list(range(81, 87))
    assert last["next"] is None
    past = api.get("/api/v1/badges/", params={"page": 4, "page_size": 40})
    assert past.status_code == 404
    assert past.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "99"])
def test_invalid_page_is_404(api: httpx.Client, page: str) -> None:
    response = api.get("/api/v1/badges/", params={"page": page})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(
    ("size", "expected"), [("5", 5), ("abc", 20), ("0", 20), ("-3", 20), ("", 20)]
)
def test_page_size_parameter(api: httpx.Client, size: str, expected: int) -> None:
    body = api.get("/api/v1/badges/", params={"page_size": size}).json()
    assert len(body["results"]) == expected


def test_page_size_is_cut_to_100(api: httpx.Client) -> None:
    body = api.get("/api/v1/credentials/", params={"page_size": 500}).json()
    assert body["count"] > 100
    assert len(body["results"]) == 100
    assert parse_qs(urlsplit(body["next"]).query) == {"page": ["2"], "page_size": ["500"]}


def test_an_empty_result_has_one_empty_page(api: httpx.Client) -> None:
    body = api.get("/api/v1/badges/", params={"search": "no-such-badge-anywhere"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    assert api.get("/api/v1/badges/", params={"search": "zzz", "page": 2}).status_code == 404


# --------------------------------------------------------------------------- filters


def test_filter_by_organization(api: httpx.Client) -> None:
    for org_id, badge_ids in ORG_BADGES.items():
        assert len(badge_ids) >= 25
        assert _all_ids(api, organization=org_id) == badge_ids


@pytest.mark.parametrize("status", ["draft", "published", "archived"])
def test_filter_by_status(api: httpx.Client, status: str) -> None:
    expected = [badge.id for badge in SEED.badges if badge.status == status]
    assert expected
    assert _all_ids(api, status=status) == expected
    both = [b.id for b in SEED.badges if b.status == status and b.organization == 3]
    assert _all_ids(api, status=status, organization=3) == both


def test_search_is_case_insensitive_on_name_and_description(api: httpx.Client) -> None:
    by_name = [b.id for b in SEED.badges if "python" in b.name.lower()]
    by_text = [b.id for b in SEED.badges if "python" in (b.name + b.description).lower()]
    assert by_name
    assert len(by_text) > len(by_name)  # some only mention it in the description
    assert _all_ids(api, search="PyThOn") == by_text


def test_search_terms_must_all_match_and_quotes_keep_phrases(api: httpx.Client) -> None:
    both = [
        b.id
        for b in SEED.badges
        if "taller" in b.name.lower() and "datos" in (b.name + b.description).lower()
    ]
    assert both
    assert _all_ids(api, search="taller datos") == both
    assert _all_ids(api, search="taller,datos") == both
    phrase = [b.id for b in SEED.badges if "ciencia de datos" in (b.name + b.description).lower()]
    assert phrase
    assert _all_ids(api, search='"ciencia de datos"') == phrase


def test_ids_batch(api: httpx.Client) -> None:
    body = api.get("/api/v1/badges/", params={"ids": "61,1,33,999,1", "page_size": 100}).json()
    assert [badge["id"] for badge in body["results"]] == [1, 33, 61]
    assert body["count"] == 3
    org1 = api.get("/api/v1/badges/", params={"ids": "61,1,2", "organization": 1}).json()
    assert [badge["id"] for badge in org1["results"]] == [1, 2]
    hundred = ",".join(str(n) for n in range(1, 101))
    assert (
        api.get("/api/v1/badges/", params={"ids": hundred, "page_size": 100}).json()["count"] == 86
    )


def test_ids_batch_limits(api: httpx.Client) -> None:
    too_many = ",".join(str(n) for n in range(1, 102))
    response = api.get("/api/v1/badges/", params={"ids": too_many})
    assert response.status_code == 400
    assert response.json() == {
        "ids": ["List contains 101 items, it should contain no more than 100."]
    }
    bad = api.get("/api/v1/badges/", params={"ids": "1,two"})
    assert bad.status_code == 400
    assert bad.json() == {"ids": ["Enter a number."]}


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"organization": "abc"}, {"organization": [INVALID_CHOICE]}),
        ({"organization": "999"}, {"organization": [INVALID_CHOICE]}),
        (
            {"status": "bogus"},
            {"status": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        (
            {"organization": "x", "status": "y"},
            {
                "organization": [INVALID_CHOICE],
                "status": ["Select a valid choice. y is not one of the available choices."],
            },
        ),
    ],
)
def test_bad_filter_values_are_400(
    api: httpx.Client, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = api.get("/api/v1/badges/", params=params)
    assert response.status_code == 400
    assert response.json() == errors


def test_empty_filter_values_are_ignored(api: httpx.Client) -> None:
    body = api.get("/api/v1/badges/?organization=&status=&search=&ids=").json()
    assert body["count"] == len(SEED.badges)


def test_badges_are_read_only(api: httpx.Client) -> None:
    response = api.post("/api/v1/badges/", json={})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert api.delete("/api/v1/badges/1/").status_code == 405
