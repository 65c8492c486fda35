"""Reports for support: the staff API (scope reports), review workflow, known_scam, aggregates,
the spoofing signal, the audit trail, and paging over 100,000 reports with a bound on Redis commands."""

import time

import pytest

from tests.conftest import registry_of
from verify.services import reports


def file(client, number="021-9999-8888", ip="10.0.0.1", **extra):
    response = client.post("/api/v1/reports", json={"number": number, **extra}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def staff(key):
    return key("reports", name="support-desk")


def test_list_filters_and_get(client, staff):
    a = file(client, categories=["transfer"])
    b = file(client, number="13912345678", categories=["sms_code"])
    listed = client.get("/api/v1/reports", headers=staff).get_json()
    assert [r["id"] for r in listed["reports"]] == [b, a] or {r["id"] for r in listed["reports"]} == {a, b}
    assert [r["id"] for r in client.get("/api/v1/reports?number=021-99998888", headers=staff).get_json()["reports"]] == [a]
    assert [r["id"] for r in client.get("/api/v1/reports?category=sms_code", headers=staff).get_json()["reports"]] == [b]
    assert client.get("/api/v1/reports?status=confirmed_scam", headers=staff).get_json()["reports"] == []
    one = client.get(f"/api/v1/reports/{a}", headers=staff).get_json()
    assert one["status"] == "new" and one["categories"] == ["transfer"] and "contact_hmac" not in one


def test_date_range(client, staff):
    file(client)
    now = int(time.time())
    assert len(client.get(f"/api/v1/reports?since={now - 60}", headers=staff).get_json()["reports"]) == 1
    assert client.get(f"/api/v1/reports?until={now - 60}", headers=staff).get_json()["reports"] == []
    assert client.get("/api/v1/reports?since=yesterday", headers=staff).status_code == 422


def test_confirming_makes_the_number_known_scam_and_clearing_undoes_it(app, client, staff):
    first, second = file(client), file(client, ip="10.0.0.2")
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "unknown"
    client.patch(f"/api/v1/reports/{first}", json={"status": "confirmed_scam"}, headers=staff)
    client.patch(f"/api/v1/reports/{second}", json={"status": "confirmed_scam"}, headers=staff)
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "known_scam"
    client.patch(f"/api/v1/reports/{first}", json={"status": "not_scam"}, headers=staff)
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "known_scam"  # one still confirmed
    client.patch(f"/api/v1/reports/{second}", json={"status": "duplicate"}, headers=staff)
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "unknown"


def test_every_change_lands_in_history_and_the_audit_log(app, client, staff):
    report_id = file(client)
    body = client.patch(f"/api/v1/reports/{report_id}",
                        json={"status": "reviewing", "assignee": "lin", "note": "called back, <b>scam</b>"}, headers=staff).get_json()
    changes = [h["change"] for h in body["history"]]
    assert changes == ["filed", "status new -> reviewing", "assigned to lin", "note added"]
    assert body["notes"][0]["text"] == "called back, <b>scam</b>" and body["notes"][0]["by"] == "key:support-desk"
    assert [r["id"] for r in client.get("/api/v1/reports?status=reviewing", headers=staff).get_json()["reports"]] == [report_id]
    assert client.get("/api/v1/reports?status=new", headers=staff).get_json()["reports"] == []
    logged = [e for e in app.extensions["verify"].audit.entries()[0] if e["action"].startswith("report_")]
    assert {e["action"] for e in logged} == {"report_status", "report_assign", "report_note"}
    assert all(e["who"] == "key:support-desk" and e["at"].endswith("Z") for e in logged)


def test_review_validation(client, staff):
    report_id = file(client)
    for body, field in (({"status": "gone"}, "status"), ({"note": ""}, "note"), ({"assignee": 5}, "assignee"), ({"x": 1}, "x")):
        response = client.patch(f"/api/v1/reports/{report_id}", json=body, headers=staff)
        assert response.status_code == 422 and field in [e["field"] for e in response.get_json()["errors"]]


def test_staff_api_needs_the_reports_scope(client, key):
    report_id = file(client)
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get(f"/api/v1/reports/{report_id}", headers=key("sessions")).status_code == 403
    assert client.patch(f"/api/v1/reports/{report_id}", json={}, headers=key("registry")).status_code == 403


def test_aggregates_count_distinct_reporters_in_24h_7d_30d(app, client):
    store = app.extensions["verify"].store
    now = int(time.time())
    for days_ago, reporter in ((0, "a"), (0, "a"), (3, "b"), (10, "c"), (40, "d")):
        store.redis.zadd(registry_of(app).reporters_key("+862199998888"), {reporter: now - days_ago * 86400}, gt=True)
    assert registry_of(app).reports.reporter_counts("+862199998888", now) == {1: 1, 7: 2, 30: 3}


def test_a_report_never_makes_a_number_look_more_trustworthy(client):
    assert client.get("/api/v1/check?number=400-000-9518").get_json()["verdict"] == "inbound_only"
    file(client, number="400-000-9518")
    assert client.get("/api/v1/check?number=400-000-9518").get_json()["verdict"] == "inbound_only"


def test_reports_naming_our_number_add_the_spoofing_warning(client):
    before = client.get("/api/v1/check?number=021-6080-0000").get_json()
    assert "impersonated" not in before["advice"]["en"]
    file(client, number="021-6080-0000", text="said they were OK钱包 and asked for my code")
    one = client.get("/api/v1/check?number=021-6080-0000").get_json()
    assert "impersonated" not in one["advice"]["en"]  # one reporter is not enough for the public warning
    file(client, number="021-6080-0000", ip="10.9.0.1", text="the same, from another network")
    after = client.get("/api/v1/check?number=021-6080-0000").get_json()
    assert after["verdict"] == "official"
    assert "recently impersonated" in after["advice"]["en"] and "冒充" in after["advice"]["zh"]
    assert "recently impersonated" in client.get("/check?number=021-6080-0000&lang=en").get_data(as_text=True)


@pytest.mark.slow
def test_paging_over_100000_reports_costs_a_bounded_number_of_commands(app, staff, monkeypatch, redis_server):
    from bench import bulk
    from tests.test_store import RoundTrips
    from verify import phones

    store, hmac_key = app.extensions["verify"].store, app.extensions["verify"].settings.hmac_key.encode()
    now = int(time.time())
    numbers = [phones.parse(f"+86139{i:08d}") for i in range(100)]

    def rows():
        for i in range(100_000):
            report = {"phone": numbers[i % 100], "number_raw": "x", "channel": "call",
                      "categories": ["sms_code"] if i % 10 else ["transfer"], "text": "", "occurred_at": None,
                      "amount_lost": None, "reporter": None}
            yield reports.build_record(hmac_key, report, "api", now - i, client_ip=f"10.0.{i % 200}.1"), now - i

    bulk.submit_reports(store, hmac_key, rows())
    client = app.test_client()
    trips = RoundTrips(monkeypatch)
    seen, cursor, pages = set(), None, 0
    while pages < 5:
        url = "/api/v1/reports?limit=50" + (f"&cursor={cursor}" if cursor else "")
        before = trips.count
        body = client.get(url, headers=staff).get_json()
        assert trips.count - before <= 4, "a page must not read the whole index"
        ids = [r["id"] for r in body["reports"]]
        assert len(ids) == 50 and not seen & set(ids)
        seen |= set(ids)
        cursor, pages = body["next_cursor"], pages + 1
    # An unfiltered page reads about the reports it shows, not twice as many.
    redis_server.reset_stats()
    assert len(client.get("/api/v1/reports?limit=50", headers=staff).get_json()["reports"]) == 50
    assert redis_server.command_calls("hgetall") <= 61
    # Filtered pages (a category that is 1 in 10 reports) still read pages, not the index.
    before = trips.count
    body = client.get("/api/v1/reports?category=transfer&limit=20", headers=staff).get_json()
    assert len(body["reports"]) == 20 and trips.count - before <= 8
    by_number = client.get("/api/v1/reports?number=%2B8613900000007&limit=50", headers=staff).get_json()
    assert {r["number"] for r in by_number["reports"]} == {"+8613900000007"}


def test_paging_reaches_every_report_when_many_share_one_second(app, staff):
    """A page whose reports of one second were all shown already must not end the listing."""
    from bench import bulk

    svc = app.extensions["verify"]
    hmac_key, now = svc.settings.hmac_key.encode(), int(time.time()) - 60
    report = reports.clean_report({"number": "021-9999-8888"}, "CN")
    assert bulk.submit_reports(svc.store, hmac_key, [(reports.build_record(hmac_key, report, "api", now), now)
                                                     for _ in range(200)]) == 200
    client, seen, cursor = app.test_client(), [], None
    for _page in range(10):
        body = client.get("/api/v1/reports", query_string={"limit": 50, **({"cursor": cursor} if cursor else {})},
                          headers=staff).get_json()
        seen += [r["id"] for r in body["reports"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 200


# --- our own numbers are spoofed, never known scams (issue 15, item 10) ---------------------------------
@pytest.mark.parametrize("number, e164", [("021-6080-0000", "+862160800000"), ("021-6080-0099", "+862160800099"),
                                          ("400-000-9518", "+864000009518"), ("021-6080-1111", "+862160801111")])
def test_confirming_a_report_of_our_own_number_confirms_it_but_never_marks_the_number(app, client, staff, number, e164):
    """The callback line, a display variant of it, the inbound-only hotline, a retired line: the report is
    confirmed (a scam did happen, under our caller ID), the number is not added to the known-scam set,
    and the report's history says why."""
    report_id = file(client, number=number)
    verdict = client.get(f"/api/v1/check?number={number}").get_json()["verdict"]
    response = client.patch(f"/api/v1/reports/{report_id}", json={"status": "confirmed_scam"}, headers=staff)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "confirmed_scam"
    assert any("not marked as known scam" in h["change"] and "our official number" in h["change"] for h in body["history"])
    redis = registry_of(app).store.redis
    assert not redis.sismember(registry_of(app).known_scam_key(), e164)
    assert client.get(f"/api/v1/check?number={number}").get_json()["verdict"] == verdict
    assert client.get("/api/v1/reports?status=confirmed_scam", headers=staff).get_json()["reports"][0]["id"] == report_id


def test_the_service_refuses_to_mark_our_own_number_and_still_clears_it(app):
    from verify import phones
    from verify.errors import Conflict
    from verify.services.actor import CLI

    review, known = app.extensions["verify"].review, registry_of(app).known_scam_key()
    ours = phones.parse("021-6080-0000", "CN")
    with pytest.raises(Conflict, match="one of our official numbers"):
        review.mark_known_scam(CLI, ours, True)
    assert not registry_of(app).store.redis.sismember(known, ours.e164)
    registry_of(app).store.redis.sadd(known, ours.e164)  # marked before it was registered
    review.mark_known_scam(CLI, ours, False)
    assert not registry_of(app).store.redis.sismember(known, ours.e164)
    stranger = phones.parse("021-9999-8888", "CN")
    review.mark_known_scam(CLI, stranger, True)
    assert registry_of(app).store.redis.sismember(known, stranger.e164)
