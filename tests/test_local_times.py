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
