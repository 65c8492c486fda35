"""The lender's own app: call status (scope ``app``), and the public inbound-only feed for carriers."""

import csv
import io
import json
import time

import pytest

from tests.conftest import registry_of
from verify.registry.sessions import KINDS

BORROWER = "13800138000"


def status(client, headers, borrower=BORROWER, **extra):
    return client.get("/api/v1/call-status", query_string={"borrower": borrower, **extra}, headers=headers)


@pytest.fixture
def app_key(key):
    return key("app")


def test_an_app_key_is_made_by_the_cli(runner):
    result = runner.invoke(args=["keys", "create", "--scope", "app", "--name", "lender-app", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("vk_app_")


def test_call_status_needs_an_app_key(client, key, app_key, open_session):
    assert status(client, {}).status_code == 401
    refused = status(client, key("sessions"))
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert status(client, key("registry")).status_code == 403
    assert status(client, app_key).status_code == 200
    # and an app key opens, reads or ends no session
    body = {"borrower": BORROWER, "caller": "021-6080-0000", "agent_id": "A1", "agent_name": "王小明", "purpose": "回访"}
    assert client.post("/api/v1/sessions", json=body, headers=app_key).status_code == 403
    sid = open_session()["id"]
    assert client.get(f"/api/v1/sessions/{sid}", headers=app_key).status_code == 403
    assert client.delete(f"/api/v1/sessions/{sid}", headers=app_key).status_code == 403


def test_calling_now_with_the_sessions_details(client, app_key, open_session):
    created = open_session()
    # None, the number, its variant, and the number typed without its area code.
    for caller in ({}, {"caller": "021-6080-0000"}, {"caller": "+86 21 6080 0099"}, {"caller": "6080 0000"}):
        response = status(client, app_key, **caller)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert response.get_json() == {
            "state": "calling_now", "agent_id": "A17", "agent_name": "王**", "caller": "+862160800000",
            "since": created["created_at"], "expires_at": created["expires_at"], "last_contact_at": None,
        }
    assert created["code"] not in response.get_data(as_text=True)


def test_a_spoofed_caller_is_not_us(client, app_key, open_session):
    open_session()
    for spoofed in ("021-6080-1111", "13911111111", "400-000-9518", "+852 2160 800000", "0755 6080 0000", "6080 1111"):
        assert status(client, app_key, caller=spoofed).get_json() == {
            "state": "not_calling", "agent_id": None, "agent_name": None, "caller": None, "since": None,
            "expires_at": None, "last_contact_at": None}, spoofed


def test_not_calling_without_a_session(client, app_key, open_session):
    open_session(borrower="13900000000")  # another borrower's session says nothing about this one
    body = status(client, app_key).get_json()
    assert body["state"] == "not_calling" and body["last_contact_at"] is None and body["agent_id"] is None


def test_an_ended_session_leaves_the_last_contact(client, app_key, open_session):
    created = open_session()
    assert client.delete(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).status_code == 204
    body = status(client, app_key).get_json()
    assert body["state"] == "not_calling" and body["agent_id"] is None and body["caller"] is None
    assert created["created_at"] <= body["last_contact_at"]


def test_an_expired_session_is_not_calling(client, app_key, open_session):
    confirmed = open_session(ttl_seconds=1)
    assert client.post("/api/v1/verify", json={"phone": BORROWER, "code": confirmed["code"]}).get_json()["verdict"] == "genuine"
    open_session(borrower="13900000000", ttl_seconds=1)  # never confirmed nor ended
    time.sleep(1.1)
    body = status(client, app_key).get_json()
    assert body["state"] == "not_calling" and body["expires_at"] is None
    assert confirmed["created_at"] <= body["last_contact_at"]  # the right code wrote it
    other = status(client, app_key, borrower="13900000000").get_json()
    assert other["state"] == "not_calling" and other["last_contact_at"] is None


def test_status_counts_nothing_and_never_locks(app, client, app_key, open_session):
    created = open_session()
    for caller in [None, "13911111111"] * 15:
        assert status(client, app_key, **({"caller": caller} if caller else {})).status_code == 200
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).get_json()
    assert (state["successful_checks"], state["failed_checks"], state["locked_channels"]) == (0, 0, [])
    sessions = registry_of(app).sessions
    tag = sessions.tag("+8613800138000")
    assert not any(app.extensions["verify"].store.redis.exists(sessions.lockout_key(tag, kind)) for kind in KINDS)
    assert client.post("/api/v1/verify", json={"phone": BORROWER, "code": created["code"]}).get_json()["verdict"] == "genuine"


def test_a_locked_out_borrower_still_gets_the_status(client, app_key, open_session):
    created = open_session()
    wrong_code = f"{(int(created['code']) + 1) % 1_000_000:06d}"
    for _ in range(5):
        client.post("/api/v1/verify", json={"phone": BORROWER, "code": wrong_code})
    assert client.post("/api/v1/verify", json={"phone": BORROWER, "code": created["code"]}).status_code == 429
    assert status(client, app_key, caller="021-6080-0000").get_json()["state"] == "calling_now"


@pytest.mark.parametrize("query", [{"borrower": "abc"}, {"borrower": "021-6080-0000"}, {},
                                   {"borrower": BORROWER, "caller": "x"}, {"borrower": BORROWER, "code": "123456"}])
def test_bad_queries_are_422(client, app_key, query):
    response = client.get("/api/v1/call-status", query_string=query, headers=app_key)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert response.get_json()["errors"]


# --- the inbound-only feed ------------------------------------------------------------------------
def _add_inbound(client, key, number="400-000-7777", **extra):
    entry = {"number": number, "labels": {"zh": "客服热线", "en": "Hotline 2"}, "purpose": "hotline",
             "direction": "inbound_only", **extra}
    response = client.post("/api/v1/numbers", json=entry, headers=key("registry"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_feed_lists_active_inbound_only_numbers(client, key):
    added = _add_inbound(client, key, variants=["400-000-7778"])
    retired = _add_inbound(client, key, "400-000-6666")
    client.patch("/api/v1/numbers/+864000006666", json={"status": "retired"}, headers=key("registry"))
    response = client.get("/api/v1/numbers/inbound-only")  # public: no key
    assert response.status_code == 200
    numbers = response.get_json()["numbers"]
    assert [n["number"] for n in numbers] == ["+864000007777", "+864000009518"]  # by number
    listed = {n["number"]: n for n in numbers}
    assert listed["+864000007777"] == {"number": "+864000007777", "labels": {"zh": "客服热线", "en": "Hotline 2"},
                                       "variants": ["+864000007778"], "since": added["created_at"]}
    assert "+864000009518" in listed  # the demo hotline
    assert retired["number"] not in listed and "+862160800000" not in listed  # retired; calls out


def test_since_is_when_a_number_became_inbound_only(client, key):
    registry = key("registry")
    entry = {"number": "021-6080-7777", "labels": {"zh": "甲", "en": "A"}, "purpose": "other", "direction": "both"}
    client.post("/api/v1/numbers", json=entry, headers=registry)
    assert "+862160807777" not in client.get("/api/v1/numbers/inbound-only").get_data(as_text=True)
    changed = client.patch("/api/v1/numbers/+862160807777", json={"direction": "inbound_only"}, headers=registry).get_json()
    time.sleep(1.05)
    client.patch("/api/v1/numbers/+862160807777", json={"notes": "front desk"}, headers=registry)
    listed = {n["number"]: n for n in client.get("/api/v1/numbers/inbound-only").get_json()["numbers"]}
    assert listed["+862160807777"]["since"] == changed["updated_at"]  # not the later change of its notes


def test_the_feed_is_cacheable_with_a_strong_etag(client, key):
    first = client.get("/api/v1/numbers/inbound-only")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    again = client.get("/api/v1/numbers/inbound-only", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert client.get("/api/v1/numbers/inbound-only", headers={"If-None-Match": '"other"'}).status_code == 200
    _add_inbound(client, key)
    changed = client.get("/api/v1/numbers/inbound-only", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "+864000007777" in changed.get_data(as_text=True)


def test_the_feed_reads_the_registry_once(app, client, monkeypatch):
    redis = app.extensions["verify"].store.redis
    commands = []
    original = type(redis).execute_command
    monkeypatch.setattr(type(redis), "execute_command",
                        lambda self, *args, **kwargs: commands.append(args[0]) or original(self, *args, **kwargs))
    client.get("/api/v1/numbers/inbound-only")
    assert commands == ["HVALS"]


def test_the_cli_exports_the_inbound_only_numbers(client, key, runner):
    _add_inbound(client, key, variants=["400-000-7778"])
    result = runner.invoke(args=["numbers", "export", "--inbound-only"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["number"] for row in rows] == ["+864000007777", "+864000009518"]
    assert rows[0]["variants"] == "+864000007778" and rows[0]["label_zh"] == "客服热线" and rows[0]["since"]
    as_json = runner.invoke(args=["numbers", "export", "--inbound-only", "--format", "json"])
    assert json.loads(as_json.output) == client.get("/api/v1/numbers/inbound-only").get_json()["numbers"]
