"""POST /api/v1/reports: public, rate limited, the same domain function as the web form and SMS."""

import time

import pytest

from verify.registry import reports


def test_report_is_filed_with_its_indexes(app, client):
    response = client.post("/api/v1/reports", json={
        "number": "021-9999-8888", "channel": "sms", "categories": ["sms_code", "police_court"],
        "text": "说是公安，要验证码", "amount_lost": "12.5", "reporter_phone": "13800138000",
        "occurred_at": "2026-11-29T09:30:00+08:00"})
    assert response.status_code == 201
    report_id = response.get_json()["id"]
    svc = app.extensions["verify"]
    stored = reports.get(svc.store, report_id)
    assert stored["source"] == "api" and stored["channel"] == "sms" and stored["amount_lost"] == "12.50"
    assert stored["occurred_at"] == "2026-11-29T01:30:00Z" and stored["contact_masked"] == "138****8000"
    raw = svc.store.redis
    assert raw.zscore(svc.store.key("reports", "by-time"), report_id)
    assert raw.zscore(svc.store.key("reports", "status:new"), report_id)
    assert raw.zscore(svc.store.key("reports", "number:+862199998888"), report_id)


def test_anonymous_reports_are_counted_by_client_ip(app, client):
    for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        client.post("/api/v1/reports", json={"number": "02199998888"}, environ_base={"REMOTE_ADDR": ip})
    counts = reports.reporter_counts(app.extensions["verify"].store, "+862199998888", int(time.time()))
    assert counts["24h"] == 2
    assert client.get("/api/v1/check?number=02199998888").get_json()["reports_30d"] == 2


def test_three_distinct_reporters_make_a_number_reported(client):
    for phone in ("13800000001", "13800000002", "13800000003"):
        client.post("/api/v1/reports", json={"number": "02199998888", "reporter_phone": phone})
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "reported"


@pytest.mark.parametrize(
    "body, field",
    [({}, "number"), ({"number": "abc"}, "number"), ({"number": "95188", "text": "x" * 2001}, "text"),
     ({"number": "95188", "categories": ["nonsense"]}, "categories"), ({"number": "95188", "amount_lost": -1}, "amount_lost"),
     ({"number": "95188", "occurred_at": "2999-01-01T00:00"}, "occurred_at"), ({"number": "95188", "channel": "fax"}, "channel"),
     ({"number": "95188", "reporter_phone": "abc"}, "reporter_phone"), ({"number": "95188", "x": 1}, "x")],
)
def test_validation(client, body, field):
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_rate_limited_per_ip_with_a_problem(make_app):
    app = make_app(VERIFY_RATE_REPORT="2 per minute")
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/reports", json={"number": "95188"}).status_code == 201
    response = client.post("/api/v1/reports", json={"number": "95188"})
    assert response.status_code == 429 and response.content_type == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert client.post("/api/v1/reports", json={"number": "95188"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 201


def test_a_report_with_its_rate_limit_is_one_round_trip(client, monkeypatch):
    from tests.test_store import RoundTrips

    client.post("/api/v1/reports", json={"number": "95188"})  # warm up: the script is loaded once
    trips = RoundTrips(monkeypatch)
    assert client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "x"}).status_code == 201
    assert trips.count == 1


def test_limit_counters_do_not_hold_the_client_address(app, client):
    client.post("/api/v1/reports", json={"number": "95188"}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    keys = app.extensions["verify"].store.redis.keys("*limit*")
    assert keys and not any("203.0.113.7" in k for k in keys)


def test_reports_still_file_after_redis_forgets_its_scripts(app, client):
    assert client.post("/api/v1/reports", json={"number": "95188"}).status_code == 201
    app.extensions["verify"].store.redis.script_flush()
    assert client.post("/api/v1/reports", json={"number": "95188"}).status_code == 201
