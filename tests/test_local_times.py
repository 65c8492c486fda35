"""Times people type and read are local (VERIFY_TIMEZONE, default Asia/Shanghai) and stored as UTC: the
report form, every page and dashboard page, the agent console and the exports; the JSON API keeps UTC Z."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import registry_of
from tests.test_dashboard import BORROWER, PASSWORD, login, token
from tests.test_web import csrf
from verify import times
from verify.services.actor import CLI

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOWN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)")
RAW_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def staff(app):
    svc = app.extensions["verify"]
    for name, role in (("ada", "admin"), ("sam", "support"), ("aga", "agent")):
        svc.staff.create(CLI, name, role, PASSWORD, "王小明" if role == "agent" else None)
    return svc


def file_by_form(app, when="2026-11-29T14:05"):
    """Send the Chinese report form with ``when`` typed in its time field; the stored report."""
    client = app.test_client()
    response = client.post("/report", data={"csrf_token": csrf(client, "/report"), "number": "021-9999-8888",
                                            "channel": "call", "occurred_at": when})
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[1]
    return registry_of(app).reports.get(reference) | {"id": reference}


# --- the pure formatters --------------------------------------------------------------------------------
def test_local_formats_name_the_zone():
    stored = "2026-11-29T06:05:00Z"
    assert times.local(stored, SHANGHAI) == "2026-11-29 14:05 (UTC+8)"
    assert times.local(times.parse(stored), SHANGHAI) == "2026-11-29 14:05 (UTC+8)"
    assert times.local(str(times.parse(stored)), SHANGHAI) == "2026-11-29 14:05 (UTC+8)"
    assert times.local(stored, times.zone("UTC")) == "2026-11-29 06:05 (UTC)"
    assert times.local(stored, ZoneInfo("Asia/Kolkata")) == "2026-11-29 11:35 (UTC+5:30)"
    assert times.local(stored, ZoneInfo("America/New_York")) == "2026-11-29 01:05 (UTC-5)"
    assert times.local_iso(stored, SHANGHAI) == "2026-11-29T14:05:00+08:00"
    assert times.local_iso(stored, times.zone("UTC")) == "2026-11-29T06:05:00+00:00"
    assert times.local(None, SHANGHAI) == times.local_iso("", SHANGHAI) == ""


# --- the report form: typed local, stored UTC -----------------------------------------------------------
def test_a_time_typed_on_the_report_form_is_local_and_stored_as_utc(app):
    assert file_by_form(app)["occurred_at"] == "2026-11-29T06:05:00Z"


def test_with_a_utc_service_the_typed_time_stays(make_app):
    app = make_app(VERIFY_TIMEZONE="UTC")
    assert file_by_form(app)["occurred_at"] == "2026-11-29T14:05:00Z"
    app.extensions["verify"].staff.create(CLI, "sam", "support", PASSWORD, None)
    client = app.test_client()
    login(client, "sam")
    rows = client.get("/dashboard/reports/export.json").get_json()
    assert rows[0]["occurred_at"] == "2026-11-29T14:05:00+00:00"
    page = client.get(f"/dashboard/reports/{rows[0]['id']}").get_data(as_text=True)
    assert "2026-11-29 14:05 (UTC)" in page


# --- the dashboard --------------------------------------------------------------------------------------
def test_dashboard_pages_show_local_times_with_the_zone(app, staff):
    report = file_by_form(app)
    client = app.test_client()
    login(client, "sam")
    client.post(f"/dashboard/reports/{report['id']}", data={
        "csrf_token": token(client, f"/dashboard/reports/{report['id']}"), "status": "reviewing", "note": "called back"})
    received = times.local(report["received_at"], SHANGHAI)
    detail = client.get(f"/dashboard/reports/{report['id']}").get_data(as_text=True)
    assert "2026-11-29 14:05 (UTC+8)" in detail and received in detail
    assert len(SHOWN.findall(detail)) >= 4  # received, happened, the note, the history
    for path in ("/dashboard/reports", "/dashboard/numbers/%2B862199998888"):
        html = client.get(path).get_data(as_text=True)
        assert received in html and not RAW_UTC.search(html), path
    login(client, "ada")
    audit = client.get("/dashboard/audit").get_data(as_text=True)
    assert SHOWN.search(audit) and not RAW_UTC.search(audit)
    registry = client.get("/dashboard/registry/%2B862160800000").get_data(as_text=True)
    assert SHOWN.search(registry) and not RAW_UTC.search(registry)


def test_the_agent_console_says_until_when_in_local_time(app, staff):
    client = app.test_client()
    login(client, "aga", lang="zh")
    answer = client.post("/dashboard/agent", data={"csrf_token": token(client, "/dashboard/agent"), **BORROWER})
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    expires = int(re.search(r'data-expires="(\d+)"', html).group(1))
    until = dt.datetime.fromtimestamp(expires, SHANGHAI)
    assert f"{until:%Y-%m-%d %H:%M} (UTC+8)" in html
    assert f'datetime="{until.isoformat()}"' in html
    assert "UTC）" not in html and "(UTC)" not in html and not RAW_UTC.search(html)


# --- exports and the API ----------------------------------------------------------------------------------
def test_exports_carry_the_offset_and_the_api_keeps_utc(app, staff, key):
    report = file_by_form(app)
    client = app.test_client()
    login(client, "sam")
    rows = client.get("/dashboard/reports/export.json").get_json()
    assert rows[0]["occurred_at"] == "2026-11-29T14:05:00+08:00"
    assert rows[0]["received_at"] == times.local_iso(report["received_at"], SHANGHAI)
    assert rows[0]["received_at"].endswith("+08:00")
    csv_text = client.get("/dashboard/reports/export.csv").get_data(as_text=True)
    assert ",2026-11-29T14:05:00+08:00," in csv_text and not RAW_UTC.search(csv_text)
    api = app.test_client().get(f"/api/v1/reports/{report['id']}", headers=key("reports")).get_json()
    assert api["occurred_at"] == "2026-11-29T06:05:00Z" and api["received_at"].endswith("Z")


def test_the_genuine_page_shows_local_times_with_the_zone(client, open_session):
    session = open_session()
    html = client.post("/verify", data={"csrf_token": csrf(client), "phone": "13800138000",
                                        "code": session["code"]}).get_data(as_text=True)
    assert 'data-verdict="genuine"' in html
    expected = times.local(session["expires_at"], SHANGHAI)
    assert expected in html and len(SHOWN.findall(html)) == 2


def test_the_overview_counts_local_days(make_app):
    """A zone whose date differs from UTC's now (UTC-12 before noon UTC, UTC+14 after): the reports
    filed now count on its today, and the days are its dates."""
    now = dt.datetime.now(dt.UTC)
    name = "Etc/GMT+12" if now.hour < 12 else "Etc/GMT-14"
    app = make_app(VERIFY_TIMEZONE=name)
    for number in ("021-9999-8888", "13912345678"):
        assert app.test_client().post("/api/v1/reports", json={"number": number}).status_code == 201
    days = app.extensions["verify"].review.overview()["days"]
    local_today = dt.datetime.now(ZoneInfo(name)).date()
    assert local_today != now.date() and len(days) == 30
    assert days[-1] == {"day": local_today.isoformat(), "count": 2}
    assert days[0]["day"] == (local_today - dt.timedelta(days=29)).isoformat()


def test_local_days_end_at_local_midnights():
    days = times.local_days(times.parse("2026-11-29T17:00:00Z"), 2, SHANGHAI)
    assert days == [("2026-11-29", times.parse("2026-11-28T16:00:00Z")),
                    ("2026-11-30", times.parse("2026-11-29T16:00:00Z")),
                    ("2026-12-01", times.parse("2026-11-30T16:00:00Z"))]
    new_york = times.local_days(times.parse("2026-11-01T12:00:00Z"), 1, ZoneInfo("America/New_York"))
    assert new_york[1][1] - new_york[0][1] == 25 * 3600  # the day the clocks go back


def test_the_queue_and_export_filter_by_local_days_and_the_api_by_utc_days(app, staff, key):
    """Received 2026-11-29T20:00Z is 2026-11-30 04:00 in Shanghai: the dashboard's 11-30 holds it, the
    API's (UTC) 11-29 does."""
    report = file_by_form(app)
    reports = registry_of(app).reports
    reports.store.redis.zadd(reports.key("by-time"), {report["id"]: times.parse("2026-11-29T20:00:00Z")})
    client = app.test_client()
    login(client, "sam")
    local_day = client.get("/dashboard/reports/export.json?since=2026-11-30&until=2026-11-30").get_json()
    utc_day = client.get("/dashboard/reports/export.json?since=2026-11-29&until=2026-11-29").get_json()
    assert [r["id"] for r in local_day] == [report["id"]] and utc_day == []
    api = app.test_client().get("/api/v1/reports?since=2026-11-29&until=2026-11-29", headers=key("reports")).get_json()
    assert [r["id"] for r in api["reports"]] == [report["id"]]
