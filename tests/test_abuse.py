"""Attacks a stranger with a laptop (and many addresses) can try, each shown to fail (issue 13)."""

import json

import pytest

from tests.test_sms import BORROWER, open_session, sms_app, standin, text  # noqa: F401  (fixtures and helpers)


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- locking a borrower out ----------------------------------------------------------------------
def test_strangers_cannot_lock_a_borrower_out_of_texting_the_right_code(sms_app):
    created, _ = open_session(sms_app)
    client = sms_app.test_client()
    for attempt in range(20):  # five are enough to lock the web and API for this phone
        client.post("/api/v1/verify", json={"phone": BORROWER, "code": _wrong(created["code"])},
                    environ_base={"REMOTE_ADDR": f"203.0.{attempt}.1"})
    assert "核验通过" in text(client, created["code"])[1]
    assert "暂停" not in text(client, "?")[1]


@pytest.mark.parametrize("digits", ["٤٨٢١٩٣", "४८२१९३", "４８２１９３"])
def test_a_code_in_other_scripts_digits_is_read_as_the_code_not_counted_wrong(sms_app, digits):
    created, _ = open_session(sms_app)
    code = created["code"]
    # The same code written in Arabic-Indic, Devanagari or full-width digits.
    written = "".join(chr(ord(digits[0]) - int("482193"[0]) + int(d)) for d in code)
    assert "核验通过" in text(sms_app.test_client(), written)[1]
    body = {"phone": BORROWER, "code": written}
    assert sms_app.test_client().post("/api/v1/verify", json=body).get_json()["verdict"] == "genuine"


# --- a stranger's text in our replies and pages -----------------------------------------------------
@pytest.mark.parametrize("name", ["\u0001Wang", "Wa\u0000ng", "王\u200e小明", "Li\x1bWei"])
def test_control_characters_are_refused_in_what_reaches_an_sms_or_a_page(sms_app, name):
    from verify.services.actor import CLI

    headers = {"Authorization": "Bearer " + sms_app.extensions["verify"].keys.create(CLI, f"k{abs(hash(name))}", "sessions")}
    body = {"borrower": BORROWER, "caller": "021-6080-0000", "agent_id": "A17", "agent_name": name, "purpose": "贷后回访"}
    response = sms_app.test_client().post("/api/v1/sessions", json=body, headers=headers)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "agent_name"


def test_a_report_text_with_control_characters_is_refused(client):
    response = client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "bad\u0007bell"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "text"
    ok = client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "line one\nline two\tand a tab"})
    assert ok.status_code == 201


@pytest.mark.parametrize("when, ok", [("1999-12-31T23:59:59Z", False), ("2000-01-01T00:00:00Z", True),
                                      ("2999-01-01T00:00:00Z", False)])
def test_occurred_at_is_refused_before_2000_or_more_than_a_day_ahead(client, when, ok):
    response = client.post("/api/v1/reports", json={"number": "021-9999-8888", "occurred_at": when})
    assert response.status_code == (201 if ok else 422)


# --- replays ---------------------------------------------------------------------------------------
def test_a_replayed_start_cannot_undo_a_later_stop(sms_app, standin):
    client = sms_app.test_client()
    start_sid = "SM" + "a" * 32
    text(client, "START", sid=start_sid)
    text(client, "STOP", sid="SM" + "b" * 32)
    text(client, "START", sid=start_sid)  # an old START sent again
    created, _ = open_session(sms_app, notify=True)
    assert created["notice"] == "skipped_opted_out"


def test_stop_is_recorded_even_past_the_senders_message_limit(make_app):
    from tests.test_sms import TOKEN

    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_SMS_RATE_LIMIT=2)
    client = app.test_client()
    for n in range(3):
        text(client, "HELP", sid=f"SM{n:032d}")
    assert text(client, "STOP", sid="SM" + "c" * 32)[1] is None
    from verify.services import demo

    demo.seed(app.extensions["verify"], logins=False)
    created, _ = open_session(app, notify=True)
    assert created["notice"] == "skipped_opted_out"


# --- a stranger's input never gives a 500 ------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/verify", "/api/v1/reports"])
def test_deeply_nested_json_is_a_400_problem(client, path):
    for depth in (100, 500, 5000):
        body = '{"phone": ' + "[" * depth + "]" * depth + ', "code": "123456", "number": "95188"}'
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400 and response.content_type == "application/problem+json", depth
        assert "nested" in response.get_json()["detail"]


def test_a_report_reference_page_shows_only_references_that_exist(client):
    reference = client.post("/api/v1/reports", json={"number": "021-9999-8888"}).get_json()["id"]
    assert client.get(f"/report/done/{reference}").status_code == 200
    assert client.get("/report/done/R261130-ZZZZZZ").status_code == 404
    assert client.get("/report/done/R<script>").status_code == 404


def test_ten_thousand_languages_do_not_grow_the_home_page_cache(app):
    client = app.test_client()
    for n in range(10_000):
        assert client.get(f"/?lang=x{n}").status_code == 200
    assert len(app.extensions["verify.home"]) <= 6  # per supported language (and switch)


# --- secrets and exposure ----------------------------------------------------------------------------
@pytest.mark.parametrize("secret, hmac_key", [("s" * 31, "h" * 40), ("s" * 40, "h" * 31), ("same" * 10, "same" * 10)])
def test_production_refuses_short_or_equal_secrets(tmp_path, secret, hmac_key):
    from verify import create_app
    from verify.settings import ConfigError

    with pytest.raises(ConfigError, match="32 bytes"):
        create_app({"VERIFY_ENV": "production", "REDIS_URL": "redis://127.0.0.1:1/0", "VERIFY_INSTANCE_PATH": str(tmp_path),
                    "VERIFY_SECRET_KEY": secret, "VERIFY_HMAC_KEY": hmac_key})


def test_hsts_in_production_only(make_app, redis_server):
    assert "Strict-Transport-Security" not in make_app().test_client().get("/healthz").headers
    production = make_app(VERIFY_ENV="production").test_client().get("/healthz")
    assert production.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_problem_body_is_json(client):
    response = client.post("/api/v1/verify", data="{", content_type="application/json")
    assert json.loads(response.get_data())["status"] == 400
