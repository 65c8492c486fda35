"""The registry through the API (scope registry): list, add, get, change, retire."""

import pytest

NEW = {
    "number": "021-6080-2222",
    "labels": {"zh": "催收专线", "en": "Collections"},
    "purpose": "collections",
    "direction": "outbound",
    "variants": ["021 6080 2223"],
    "notes": "second floor",
}


@pytest.fixture
def reg(key):
    return key("registry")


def test_list(client, reg):
    body = client.get("/api/v1/numbers", headers=reg).get_json()
    numbers = {entry["number"]: entry for entry in body["numbers"]}
    assert set(numbers) == {"+862160800000", "+864000009518", "+8610690009518", "+862160801111"}
    assert numbers["+862160801111"]["status"] == "retired"
    assert numbers["+862160801111"]["retired_on"] == "2025-06-30"
    assert numbers["+862160800000"]["variants"] == ["+862160800099"]
    assert "DEMO" in numbers["+862160800000"]["notes"]


def test_add_get_and_check(client, reg):
    response = client.post("/api/v1/numbers", json=NEW, headers=reg)
    assert response.status_code == 201
    entry = response.get_json()
    assert entry["number"] == "+862160802222" and entry["variants"] == ["+862160802223"]
    assert entry["status"] == "active" and entry["retired_on"] is None
    assert response.headers["Location"].endswith("/api/v1/numbers/+862160802222")
    assert client.get("/api/v1/numbers/+862160802222", headers=reg).get_json() == entry
    assert client.get("/api/v1/numbers/021-60802222", headers=reg).get_json() == entry
    assert client.get("/api/v1/check?number=021-6080-2223").get_json()["verdict"] == "official"


def test_patch_changes_fields_and_retires(client, reg):
    client.post("/api/v1/numbers", json=NEW, headers=reg)
    response = client.patch("/api/v1/numbers/+862160802222", json={"direction": "inbound_only"}, headers=reg)
    assert response.status_code == 200 and response.get_json()["direction"] == "inbound_only"
    assert response.get_json()["labels"] == NEW["labels"]  # untouched fields stay
    assert client.get("/api/v1/check?number=02160802222").get_json()["verdict"] == "inbound_only"
    response = client.patch("/api/v1/numbers/+862160802222", json={"status": "retired", "retired_on": "2026-01-31"}, headers=reg)
    assert response.get_json()["retired_on"] == "2026-01-31"
    assert client.get("/api/v1/check?number=02160802222").get_json()["verdict"] == "retired"
    response = client.patch("/api/v1/numbers/+862160802222", json={"status": "active"}, headers=reg)
    assert response.get_json()["retired_on"] is None


def test_retire_without_date_uses_today(client, reg):
    response = client.patch("/api/v1/numbers/+862160800000", json={"status": "retired"}, headers=reg)
    assert response.get_json()["retired_on"]


def test_duplicates_conflict(client, reg):
    assert client.post("/api/v1/numbers", json={**NEW, "number": "021-6080-0000"}, headers=reg).status_code == 409
    clash = {**NEW, "variants": ["021-6080-0099"]}  # a variant of the callback line
    response = client.post("/api/v1/numbers", json=clash, headers=reg)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"number": "abc"}, "number"),
        ({"number": None}, "number"),
        ({"labels": "x"}, "labels"),
        ({"labels": {"zh": "x"}}, "en"),
        ({"labels": {"zh": "x", "en": "y", "fr": "z"}}, "labels"),
        ({"purpose": "fun"}, "purpose"),
        ({"direction": "sideways"}, "direction"),
        ({"status": "gone"}, "status"),
        ({"retired_on": "yesterday"}, "retired_on"),
        ({"variants": "021"}, "variants"),
        ({"variants": ["nope"]}, "variants[0]"),
        ({"notes": "x" * 501}, "notes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_add_validation(client, reg, change, field):
    body = {k: v for k, v in {**NEW, **change}.items() if v is not None}
    response = client.post("/api/v1/numbers", json=body, headers=reg)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]


def test_number_cannot_change(client, reg):
    response = client.patch("/api/v1/numbers/+862160800000", json={"number": "021-6080-5555"}, headers=reg)
    assert response.status_code == 422


def test_unknown_number_is_404(client, reg):
    assert client.get("/api/v1/numbers/+862199999999", headers=reg).status_code == 404
    assert client.patch("/api/v1/numbers/nonsense", json={"notes": "x"}, headers=reg).status_code == 404


@pytest.mark.parametrize("scope", ["sessions", "reports"])
def test_registry_needs_registry_scope(client, key, scope):
    assert client.get("/api/v1/numbers", headers=key(scope)).status_code == 403
    assert client.get("/api/v1/numbers").status_code == 401
    assert client.post("/api/v1/numbers", json=NEW).status_code == 401
