"""POST /api/v1/reports: public, rate limited, the same domain function as the web form and SMS."""

import time

import pytest

from tests.conftest import registry_of, version_reads
from verify.services import reports


def test_report_is_filed_with_its_indexes(app, client):
    response = client.post("/api/v1/reports", json={
        "number": "021-9999-8888", "channel": "sms", "categories": ["sms_code", "police_court"],
        "text": "说是公安，要验证码", "amount_lost": "12.5", "reporter_phone": "13800138000",
        "occurred_at": "2026-11-29T09:30:00+08:00"})
    assert response.status_code == 201
    report_id = response.get_json()["id"]
    svc = app.extensions["verify"]
    stored = registry_of(app).reports.get(report_id)
    assert stored["source"] == "api" and stored["channel"] == "sms" and stored["amount_lost"] == "12.50"
    assert stored["occurred_at"] == "2026-11-29T01:30:00Z" and stored["contact_masked"] == "138****8000"
    raw = svc.store.redis
    assert raw.zscore(svc.store.key("reports", "by-time"), report_id)
    assert raw.zscore(svc.store.key("reports", "status:new"), report_id)
    assert raw.zscore(svc.store.key("reports", "number:+862199998888"), report_id)


def test_web_and_api_reporters_are_counted_by_client_network(app, client):
    for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.7.1"):  # 10.0.0.0/24 is one reporter
        client.post("/api/v1/reports", json={"number": "02199998888"}, environ_base={"REMOTE_ADDR": ip})
    counts = registry_of(app).reports.reporter_counts("+862199998888", int(time.time()))
    assert counts[1] == 2
    assert client.get("/api/v1/check?number=02199998888").get_json()["reports_30d"] == 2


def test_three_distinct_reporters_make_a_number_reported(client):
    for ip in ("10.0.1.1", "10.0.2.1"):
        client.post("/api/v1/reports", json={"number": "02199998888"}, environ_base={"REMOTE_ADDR": ip})
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "unknown"
    client.post("/api/v1/reports", json={"number": "02199998888"}, environ_base={"REMOTE_ADDR": "2001:db8:0:3::1"})
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


def test_limit_counters_do_not_hold_the_client_address(app, client, redis_server):
    client.post("/api/v1/reports", json={"number": "95188"}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    keys = redis_server.keys("*:l:*")
    assert keys and not any("203.0.113.7" in k for k in keys)


def test_reports_still_file_after_redis_forgets_its_scripts(app, client):
    assert client.post("/api/v1/reports", json={"number": "95188"}).status_code == 201
    app.extensions["verify"].store.redis.script_flush()
    assert client.post("/api/v1/reports", json={"number": "95188"}).status_code == 201


def test_reference_is_readable_and_random():
    now = int(time.time())
    ids = {reports.new_id(now) for _ in range(2000)}
    assert len(ids) == 2000
    for report_id in ids:
        day, _, tail = report_id.partition("-")
        assert day.startswith("R") and len(day) == 7 and len(tail) == 6
        assert set(tail) <= set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
    # Every character of the alphabet turns up in every position (all 30 random bits are used).
    for position in range(6):
        assert len({report_id[-6 + position] for report_id in ids}) == 32


def test_a_reference_already_taken_is_never_overwritten(app, client, monkeypatch):
    first = client.post("/api/v1/reports", json={"number": "02199998888", "text": "first"}).get_json()["id"]
    drawn = iter([first, first, "R261130-ZZZZZZ"])
    monkeypatch.setattr(reports, "new_id", lambda now: next(drawn))
    second = client.post("/api/v1/reports", json={"number": "02177776666", "text": "second"})
    assert second.status_code == 201 and second.get_json()["id"] == "R261130-ZZZZZZ"
    store, stored = app.extensions["verify"].store, registry_of(app).reports
    assert stored.get(first)["text"] == "first" and stored.get(first)["number"] == "+862199998888"
    assert stored.get("R261130-ZZZZZZ")["text"] == "second"
    # The refused attempts wrote nothing: two reports in the index.
    assert store.redis.zcard(store.key("reports", "by-time")) == 2


def test_bulk_filing_draws_a_new_reference_when_one_is_taken(app):
    from bench import bulk
    from verify import phones

    svc = app.extensions["verify"]
    hmac_key = svc.settings.hmac_key.encode()
    now = int(time.time())
    report = {"phone": phones.parse("02199998888"), "number_raw": "x", "channel": "call", "categories": [],
              "text": "", "occurred_at": None, "amount_lost": None, "reporter": None}
    records = [reports.build_record(hmac_key, report, "api", now) for _ in range(3)]
    for record in records:
        record["id"] = "R261130-AAAAAA"  # the same reference three times
    assert bulk.submit_reports(svc.store, hmac_key, ((r, now) for r in records)) == 3
    assert svc.store.redis.zcard(svc.store.key("reports", "by-time")) == 3


def test_reports_read_the_registry_version_only_when_this_copy_is_over_a_second_old(app, client, key, monkeypatch, caplog):
    """The spoofing signal needs a current registry, but reading its version with every report of a
    campaign is needless: a copy confirmed within the last second is used as it is."""
    import logging

    from tests.test_check_api import NEW_NUMBER
    reads = version_reads(monkeypatch)
    registry = registry_of(app).cache
    for _ in range(3):
        assert client.post("/api/v1/reports", json={"number": "021-9999-8888"}).status_code == 201
    assert len(reads) == 1  # the first report found no fresh copy; the two after it used it
    assert client.post("/api/v1/numbers", json=NEW_NUMBER, headers=key("registry")).status_code == 201
    registry.confirmed_at -= registry.FRESH_SECONDS  # a second later
    with caplog.at_level(logging.WARNING, logger="verify.services.reports"):
        assert client.post("/api/v1/reports", json={"number": "021-6080-7777"}).status_code == 201
    assert len(reads) == 2 and "+862160807777" in registry.exact
    assert caplog.text.count("spoofing signal") == 1 and "+862160807777" in caplog.text


# --- at most once: Idempotency-Key ---------------------------------------------------------------------
def _stored_ids(app):
    store = app.extensions["verify"].store
    return store.redis.zrange(store.key("reports", "by-time"), 0, -1)


def test_a_retried_report_with_its_idempotency_key_is_filed_once(app, client):
    body = {"number": "021-9999-8888", "text": "自称客服，让我转账"}
    first = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": "9f1c2e4a-retry"})
    again = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": "9f1c2e4a-retry"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert _stored_ids(app) == [first.get_json()["id"]]
    other = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": "another-key"})
    assert other.status_code == 201 and len(_stored_ids(app)) == 2  # a new key is a new report
    plain = client.post("/api/v1/reports", json=body)
    assert plain.status_code == 201 and len(_stored_ids(app)) == 3  # without a key, every request files


def test_an_idempotency_key_is_the_clients_own(app, client):
    """Another client sending the same key files its own report (a key cannot be used to swallow
    someone else's report)."""
    body = {"number": "021-9999-8888"}
    headers = {"Idempotency-Key": "shared-guessable-key"}
    mine = client.post("/api/v1/reports", json=body, headers=headers)
    theirs = client.post("/api/v1/reports", json=body, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"] and len(_stored_ids(app)) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "中文"])
def test_a_malformed_idempotency_key_is_refused_and_files_nothing(app, client, key):
    response = client.post("/api/v1/reports", json={"number": "021-9999-8888"}, headers={"Idempotency-Key": key})
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert "Idempotency-Key" in str(response.get_json()) and _stored_ids(app) == []


def test_an_idempotency_key_sent_again_with_another_report_is_refused(app, client):
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/reports", json={"number": "021-9999-8888"}, headers=headers).status_code == 201
    reused = client.post("/api/v1/reports", json={"number": "021-9999-7777"}, headers=headers)
    assert reused.status_code == 422 and "different request" in str(reused.get_json())
    assert len(_stored_ids(app)) == 1
