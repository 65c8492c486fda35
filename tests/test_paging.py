"""Paging lists every record exactly once however many share a second (issue 14, item 6): the API's
report list, the dashboard's queue, the exports, the audit log and the retention purge, each over
300 reports (or entries) received in one second, read 50 at a time."""

import csv
import html
import io
import json
import re

import pytest

from tests.test_dashboard import accounts, login  # noqa: F401 (accounts: a fixture)
from verify import times
from verify.services.actor import CLI, Actor
from verify.services.review import Filters

NOW = times.parse("2026-11-20T12:00:00Z")  # a fixed second, so every planted report shares it
NUMBER, OTHER = "021-9999-8888", "13912345678"


def plant(app, count, now=NOW, number=NUMBER, **extra):
    """File ``count`` reports through the service's own write, all received at ``now``; their ids."""
    intake = app.extensions["verify"].intake
    return [intake.file({"number": number, **extra}, "api", Actor("public", "10.0.0.1"), now=now)[0] for _ in range(count)]


def newest_first(*seconds_and_ids):
    """The order the lists document: newest second first, and within one second by id, descending."""
    return [report_id for _second, report_id in sorted(
        ((second, report_id) for second, ids in seconds_and_ids for report_id in ids), reverse=True)]


@pytest.fixture
def planted(app):
    """300 reports in one second, with a few in the seconds either side."""
    return newest_first((NOW + 1, plant(app, 5, NOW + 1)), (NOW, plant(app, 300)), (NOW - 1, plant(app, 5, NOW - 1)))


def api_pages(client, headers, **query):
    listed, cursor = [], None
    for _page in range(100):
        response = client.get("/api/v1/reports", query_string={**query, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["reports"]) <= int(query.get("limit", 50))
        listed += [r["id"] for r in body["reports"]]
        cursor = body["next_cursor"]
        if not cursor:
            return listed
    pytest.fail("paging did not end")


def test_the_api_lists_300_reports_of_one_second_once_each_newest_first(client, key, planted):
    listed = api_pages(client, key("reports"), limit=50)
    assert len(listed) == len(set(listed)) == 310
    assert listed == planted


@pytest.mark.parametrize("query, expected", [
    ({"status": "new"}, ("after", "wanted", "others", "before")),
    ({"number": NUMBER}, ("after", "wanted", "before")),
    ({"status": "new", "number": NUMBER}, ("after", "wanted", "before")),
    ({"category": "transfer"}, ("after", "wanted", "before")),
    ({"since": "2026-11-20", "until": "2026-11-20"}, ("wanted", "others")),
    ({"since": str(NOW), "until": str(NOW)}, ("wanted", "others")),
], ids=lambda value: ",".join(value) if isinstance(value, dict) else None)
def test_filters_page_through_a_crowded_second(app, client, key, query, expected):
    planted = {"wanted": (NOW, plant(app, 300, categories=["transfer"])),
               "others": (NOW, plant(app, 40, number=OTHER, categories=["sms_code"])),  # interleaved by id
               "before": (NOW - 86400, plant(app, 3, now=NOW - 86400, categories=["transfer"])),
               "after": (NOW + 86400, plant(app, 3, now=NOW + 86400, categories=["transfer"]))}
    listed = api_pages(client, key("reports"), limit=50, **query)
    assert listed == newest_first(*(planted[name] for name in expected))


def test_reports_reviewed_while_the_queue_is_paged_neither_repeat_nor_hide_others(app, client, key):
    """The cursor is a place in the order, not an offset: reports leaving the status index (the
    cursor's own among them) do not shift the pages that follow."""
    headers, ids = key("reports"), newest_first((NOW, plant(app, 300)))
    first = client.get("/api/v1/reports?status=new&limit=50", headers=headers).get_json()
    assert [r["id"] for r in first["reports"]] == ids[:50]
    moved = [ids[49], *ids[60:70]]
    for report_id in moved:
        assert client.patch(f"/api/v1/reports/{report_id}", json={"status": "reviewing"}, headers=headers).status_code == 200
    rest = api_pages(client, headers, status="new", limit=50, cursor=first["next_cursor"])
    assert rest == [i for i in ids[50:] if i not in moved]


def queue_pages(client, path):
    listed = []
    for _page in range(100):
        response = client.get(path)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        listed += re.findall(r'<tr id="row-([^"]+)"', page)  # one row per report
        older = re.search(r'href="(/dashboard/reports\?[^"]*)">Older reports', page)
        if not older:
            return listed
        path = html.unescape(older.group(1))
    pytest.fail("paging did not end")


def test_the_dashboard_queue_lists_300_reports_of_one_second_once_each(app, accounts, planted):
    client = app.test_client()
    login(client, "sam")
    listed = queue_pages(client, "/dashboard/reports")
    assert len(listed) == len(set(listed)) == 310
    assert listed == planted
    assert queue_pages(client, "/dashboard/reports?status=new") == planted


def test_a_bad_queue_cursor_is_a_message_on_the_page(app, accounts):
    client = app.test_client()
    login(client, "sam")
    for cursor in ("x", "1795176000:R<b>", "1795176000:", "١٢:R1", "9" * 13 + ":R1"):
        response = client.get("/dashboard/reports", query_string={"cursor": cursor})
        assert response.status_code == 200 and "Page: is not a cursor this service gave out" in response.get_data(as_text=True)


@pytest.mark.parametrize("cursor", ["x", "1795176000:R<b>", "1795176000:", "1795176000", "١٢:R1", "9" * 13 + ":R1", ":R1"])
def test_a_bad_api_cursor_is_refused_with_its_reason(client, key, cursor):
    response = client.get("/api/v1/reports", query_string={"cursor": cursor}, headers=key("reports"))
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == [{"field": "cursor", "message": "is not a cursor this service gave out"}]


def test_a_cursor_past_since_lists_nothing_more(app, client, key):
    plant(app, 60)
    first = client.get("/api/v1/reports?limit=50", headers=key("reports")).get_json()
    later = client.get("/api/v1/reports", query_string={"limit": 50, "cursor": first["next_cursor"], "since": NOW + 1},
                       headers=key("reports")).get_json()
    assert later == {"reports": [], "next_cursor": None}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_each_export_holds_300_reports_of_one_second_once_each(app, accounts, planted, fmt):
    client = app.test_client()
    login(client, "sam")
    response = client.get(f"/dashboard/reports/export.{fmt}?status=new")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    rows = json.loads(text) if fmt == "json" else list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row["id"] for row in rows] == planted


def test_the_export_pages_through_a_second_bigger_than_its_pages(app):
    review = app.extensions["verify"].review
    wanted = newest_first((NOW, plant(app, 300)))
    assert [row["id"] for row in review.export_rows(Filters(), page=50)] == wanted
    assert [row["id"] for row in review.export_rows(Filters(), limit=120, page=50)] == wanted[:120]


def test_the_audit_log_lists_300_entries_of_one_second_once_each(app, accounts):
    audit = accounts.audit
    for n in range(300):
        audit.record(CLI, "report_note", target=f"T{n:03d}")
    expected = [f"T{n:03d}" for n in reversed(range(300))]
    listed, cursor = [], None
    while True:
        entries, cursor = audit.entries(action="report_note", before=cursor, limit=50)
        listed += [e["target"] for e in entries]
        if not cursor:
            break
    assert listed == expected
    client = app.test_client()
    login(client, "ada")
    shown, path = [], "/dashboard/audit?action=report_note"
    while path:
        page = client.get(path).get_data(as_text=True)
        shown += re.findall(r'<td[^>]*data-action="report_note">.*?</td><td[^>]*>(T\d{3})</td>', page)
        older = re.search(r'href="(/dashboard/audit\?[^"]*)">Older entries', page)
        path = html.unescape(older.group(1)) if older else None
    assert shown == expected


def test_the_purge_redacts_every_report_of_a_second_bigger_than_its_batches(app):
    from bench import bulk
    from verify.services import reports

    svc = app.extensions["verify"]
    hmac_key, old = svc.settings.hmac_key.encode(), NOW - 400 * 86400
    report = reports.clean_report({"number": NUMBER, "text": "my name and my story"}, "CN")
    assert bulk.submit_reports(svc.store, hmac_key, [(reports.build_record(hmac_key, report, "api", old), old)
                                                     for _ in range(1200)]) == 1200
    assert svc.retention.purge(CLI, now=NOW)[0] == 1200
    assert all(row["text"] == "" for row in svc.review.export_rows(Filters()))
