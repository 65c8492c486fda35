"""Attacks a stranger with a laptop (and many addresses) can try, each shown to fail (issue 13)."""

import json

import pytest

from tests.conftest import round_trips
from tests.test_sms import BORROWER, open_session, sms_app, standin, text  # noqa: F401  (fixtures and helpers)
from verify.services.actor import CLI


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


# --- one laptop against the public API ------------------------------------------------------------------
@pytest.fixture
def default_limits(seeded):
    """The app with the API's default per-client limits (the suite raises them elsewhere)."""
    return seeded(VERIFY_RATE_API_CHECK="30 per minute", VERIFY_RATE_API_VERIFY="10 per minute")


def test_the_public_api_limits_each_client_in_the_same_round_trip(default_limits, monkeypatch):
    from tests.test_store import RoundTrips

    client = default_limits.test_client()
    client.get("/api/v1/check?number=95188", environ_base={"REMOTE_ADDR": "198.51.100.1"})  # warm up
    trips = RoundTrips(monkeypatch)
    answers = [client.post("/api/v1/verify", json={"phone": f"1380000{n:04d}", "code": "123456"},
                           environ_base={"REMOTE_ADDR": "198.51.100.1"}) for n in range(12)]
    assert trips.count == 12 * round_trips(2)  # the limit and the code check: one round trip per request (a cluster: per slot)
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 2
    refused = answers[-1]
    assert refused.content_type == "application/problem+json" and int(refused.headers["Retry-After"]) > 0
    assert "verdict" not in refused.get_json()  # nothing of the answer past the limit
    checks = [client.get(f"/api/v1/check?number=9518{n % 10}", environ_base={"REMOTE_ADDR": "198.51.100.1"})
              for n in range(31)]
    assert [c.status_code for c in checks].count(429) == 2  # 30 a minute, the warm-up's among them


def test_many_addresses_of_one_network_share_a_limit(default_limits):
    client = default_limits.test_client()
    statuses = [client.post("/api/v1/verify", json={"phone": f"1390000{n:04d}", "code": "123456"},
                            environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"}).status_code for n in range(45)]
    assert statuses.count(200) == 40 and statuses[-1] == 429  # 4 x 10 for the /24
    other = client.post("/api/v1/verify", json={"phone": "13900009999", "code": "123456"},
                        environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 200  # another network is not held up


def test_a_neighbour_on_the_same_network_cannot_take_the_pages_from_a_borrower(default_limits):
    """Behind one carrier NAT (a /24) a scammer spends the network's API allowance: the borrower next
    to them still gets the web pages (counted per address)."""
    client = default_limits.test_client()
    for n in range(45):
        client.post("/api/v1/verify", json={"phone": f"1390000{n:04d}", "code": "123456"},
                    environ_base={"REMOTE_ADDR": f"100.64.0.{n + 1}"})
    neighbour = {"REMOTE_ADDR": "100.64.0.200"}
    assert client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"},
                       environ_base=neighbour).status_code == 429
    assert client.get("/check?number=95188", environ_base=neighbour).status_code == 200


def test_ipv6_clients_are_limited_per_64(default_limits):
    client = default_limits.test_client()
    statuses = [client.post("/api/v1/verify", json={"phone": f"1370000{n:04d}", "code": "123456"},
                            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"}).status_code for n in range(41)]
    assert statuses[-1] == 429


# --- poisoning a number's counts ---------------------------------------------------------------------
def test_invented_reporter_phones_from_one_network_count_as_one_reporter(client):
    for n in range(5):
        client.post("/api/v1/reports", json={"number": "02199998888", "reporter_phone": f"1380000000{n}"},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})
    body = client.get("/api/v1/check?number=02199998888").get_json()
    assert body["verdict"] == "unknown" and body["reports_30d"] == 1


def test_one_anonymous_report_cannot_put_the_impersonation_warning_on_an_official_number(client):
    client.post("/api/v1/reports", json={"number": "021-6080-0000"}, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert "impersonated" not in client.get("/api/v1/check?number=021-6080-0000").get_json()["advice"]["en"]


def test_sms_reporters_are_counted_by_their_own_number(sms_app):
    client = sms_app.test_client()
    text(client, "举报 021-9999-8888", sender="+8613800000001")
    text(client, "举报 021-9999-8888", sender="+8613800000002")
    text(client, "举报 021-9999-8888", sender="+8613800000002")
    assert client.get("/api/v1/check?number=02199998888").get_json()["reports_30d"] == 2


# --- a stranger's text in our replies and pages -----------------------------------------------------
@pytest.mark.parametrize("name", ["\u0001Wang", "Wa\u0000ng", "王\u200e小明", "Li\x1bWei"])
def test_control_characters_are_refused_in_what_reaches_an_sms_or_a_page(sms_app, name):
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


@pytest.mark.parametrize("query", ["since=¹", "until=٢٠٢٦-١١-٣٠", "since=" + "9" * 5000, "limit=99999999999999999999",
                                   "limit=¹", "cursor=x", "cursor=" + "1" * 40 + ":R", "status=%00", "number=" + "1" * 500])
def test_odd_report_filters_on_the_api_are_a_422(client, key, query):
    response = client.get(f"/api/v1/reports?{query}", headers=key("reports"))
    assert response.status_code == 422 and response.content_type == "application/problem+json", query


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


# --- locking the support team out; filling the audit log ---------------------------------------------
def _login(client, name, password, ip):
    import re

    from tests.test_dashboard import CSRF

    client.set_cookie("lang", "en")  # the dashboard speaks Chinese by default; these tests read its English
    page = client.get("/dashboard/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    token = re.search(CSRF, page).group(1)
    return client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def test_a_stranger_cannot_lock_a_named_staff_member_out(app):
    app.extensions["verify"].staff.create(CLI, "sam", "support", "correct horse battery")
    attacker = app.test_client()
    for _ in range(8):
        assert _login(attacker, "sam", "guess guess guess", "198.51.100.7").status_code == 401
    assert "locked" in _login(attacker, "sam", "correct horse battery", "198.51.100.7").get_data(as_text=True)
    assert _login(app.test_client(), "sam", "correct horse battery", "203.0.113.20").status_code == 302  # sam's office
    audited = app.extensions["verify"].audit.entries(action="login_failed")[0]
    assert len(audited) == 6  # five wrong passwords, then the lock once: not one entry per refused try


def test_one_network_cannot_make_us_hash_passwords_without_bound(app, monkeypatch):
    from verify.services import passwords

    hashed = []
    original = passwords.check_password
    monkeypatch.setattr(passwords, "check_password", lambda *a: hashed.append(1) or original(*a))
    client = app.test_client()
    for n in range(60):  # a different name each time: no name lock helps
        _login(client, f"user{n}", "guess guess guess", f"198.51.100.{n % 200 + 1}")
    assert len(hashed) == 50
    assert "network" in _login(client, "sam", "x" * 12, "198.51.100.99").get_data(as_text=True)


def test_the_audit_stream_is_capped(app, monkeypatch):
    from verify.registry import audit as audit_log

    monkeypatch.setattr(audit_log, "MAX_ENTRIES", 100)
    svc = app.extensions["verify"]
    for n in range(2000):
        svc.audit.record(CLI, "key_create", f"k{n}")
    assert svc.store.redis.xlen(svc.store.key("audit", "log")) < 400


# --- privacy: no address in the store, personal data kept no longer than needed -------------------------
def _everything_stored(store):
    redis = store.redis
    out = []
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key)
        out.append(key)
        if kind == "string":
            out.append(redis.get(key))
        elif kind == "hash":
            out += [f"{k}={v}" for k, v in redis.hgetall(key).items()]
        elif kind == "set":
            out += list(redis.smembers(key))
        elif kind == "zset":
            out += [m for m, _s in redis.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            out += [str(fields) for _id, fields in redis.xrange(key)]
    return "\n".join(out)


def test_no_client_address_in_plaintext_anywhere_in_redis(app):
    app.extensions["verify"].staff.create(CLI, "sam", "support", "correct horse battery")
    ip, client = "198.51.100.77", app.test_client()
    env = {"REMOTE_ADDR": ip}
    client.get("/api/v1/check?number=95188", environ_base=env)
    client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}, environ_base=env)
    client.post("/api/v1/reports", json={"number": "021-9999-8888"}, environ_base=env)
    client.get("/check?number=95188", environ_base=env)
    _login(client, "sam", "wrong wrong wrong", ip)
    _login(client, "sam", "correct horse battery", ip)
    stored = _everything_stored(app.extensions["verify"].store)
    assert "login_failed" in stored and "198.51.100" not in stored


def test_the_loan_reference_is_sealed_in_the_store_and_read_back_by_the_api(sms_app):
    created, headers = open_session(sms_app, loan_ref="LOAN-2026-000123")
    assert "LOAN-2026-000123" not in _everything_stored(sms_app.extensions["verify"].store)
    state = sms_app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
    assert state["loan_ref"] == "LOAN-2026-000123"


def test_a_reporters_pseudonym_cannot_be_matched_to_the_borrowers_keys(sms_app):
    from verify import phones

    client = sms_app.test_client()
    reference = text(client, "举报 021-9999-8888")[1].split("编号")[1].split("，")[0]  # from the borrower's phone
    text(client, "STOP")
    svc = sms_app.extensions["verify"]
    redis, key = svc.store.redis, svc.store.key
    borrower_tag = phones.number_hmac(svc.settings.hmac_key.encode(), BORROWER, "borrower")[:24]
    report = redis.hgetall(key("reports", f"r:{reference}"))
    stored = [report["contact_hmac"], report["fingerprint"], *redis.smembers(key("optout", "numbers"))]
    assert len(stored) == 3 and all(value and borrower_tag not in value for value in stored)
    assert len({value[:24] for value in stored}) == 3  # three purposes, three unrelated pseudonyms


def test_purge_blanks_old_reports_personal_fields_and_keeps_their_counts(app, runner):
    import time

    client = app.test_client()
    old = client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "my name is Li, call 13800138000",
                                                "reporter_phone": "13800138000"}).get_json()["id"]
    svc = app.extensions["verify"]
    far_future = int(time.time()) + 366 * 86400
    redacted, _dropped = svc.retention.purge(CLI, now=far_future)
    assert redacted == 1
    from tests.conftest import registry_of

    stored = registry_of(app).reports.get(old)
    assert stored["text"] == "" and stored["contact_masked"] == "" and stored["fingerprint"] == ""
    assert stored["number"] == "+862199998888" and stored["redacted_at"]
    assert svc.store.redis.zscore(svc.store.key("reports", "by-time"), old)  # still in the queue's counts
    assert "0 reports redacted" in runner.invoke(args=["purge"]).output  # done once, not again


def test_a_reporter_can_have_their_report_erased(app, runner):
    client = app.test_client()
    reference = client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "Li, 13800138000"},
                            environ_base={"REMOTE_ADDR": "10.3.3.3"}).get_json()["id"]
    assert client.get("/api/v1/check?number=02199998888").get_json()["reports_30d"] == 1
    result = runner.invoke(args=["reports", "erase", reference])
    assert result.exit_code == 0, result.output
    from tests.conftest import registry_of

    assert registry_of(app).reports.get(reference)["text"] == ""
    assert client.get("/api/v1/check?number=02199998888").get_json()["reports_30d"] == 0
    assert runner.invoke(args=["reports", "erase", "R000000-NOSUCH"]).exit_code != 0
    assert app.extensions["verify"].audit.entries(action="report_erase")[0][0]["target"] == reference


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


# --- a lookalike shown as ours ---------------------------------------------------------------------
@pytest.mark.parametrize("link", ["021 6080 0000 # 1234", "02160800000#1", "021 6080 0000 ~ 1234", "021-6080-0000,,1",
                                  "400-000-9518 # 0"])
def test_digits_after_an_extension_mark_never_show_a_lookalike_as_official(seeded, link):
    # phonenumbers reads what follows #, ~ or ,, as an extension and checks only the number before it,
    # while the page shows every digit typed: a link to /check?number=021+6080+0000+%23+1234 said
    # "021 6080 0000 1234: official number" (API: display "021 6080 0000 1234", verdict official).
    # A caller ID never carries an extension: the number is refused.
    client = seeded().test_client()
    api = client.get("/api/v1/check", query_string={"number": link})
    assert api.status_code == 422 and api.content_type == "application/problem+json"
    page = client.get("/check", query_string={"number": link, "lang": "en"})
    assert page.status_code == 400 and 'data-verdict="official"' not in page.get_data(as_text=True)
    assert "does not look like a phone number" in page.get_data(as_text=True)


@pytest.mark.parametrize("link, shown", [
    ("٠٢١ ٦٠٨٠ ٠٠٠٠", "021 6080 0000"),  # Arabic-Indic: ٠ is drawn as a dot, ٥ (5) as a 0
    ("০২১ ৬০৮০ ০০০০", "021 6080 0000"),  # Bengali: ৪ (4) is drawn like an 8
    ("021 6080 000৪", "021 6080 0004"),
    ("０２１ ６０８０ ０٠٠٠", "021 6080 0000"),
])
def test_a_number_is_shown_in_the_digits_it_was_checked_as(seeded, link, shown):
    # phonenumbers reads any script's digits; the number "as typed" showed them in that script, so a
    # link could show 021 6080 000৪ (drawn like ...0008) beside the verdict of 021 6080 0004.
    client = seeded().test_client()
    answer = client.get("/api/v1/check", query_string={"number": link}).get_json()
    assert answer["display"] == shown
    page = client.get("/check", query_string={"number": link, "lang": "en"}).get_data(as_text=True)
    assert f'<p class="number tel">{shown}</p>' in page


@pytest.mark.parametrize("typed, shown", [
    ("+86 11111 21 6080 0000", "021 6080 0000"), ("12593 21 6080 0000", "021 6080 0000"),
    ("0086 17951 21 6080 0000", "021 6080 0000"), ("+86 179 99 400 000 9518", "400 000 9518"),
    # a plain prefix stays as typed
    ("0086 21 6080 0000", "0086 21 6080 0000"), ("+86 0 21 6080 0000", "+86 0 21 6080 0000"),
    ("8621 6080 0000", "8621 6080 0000"), ("+8602160800000", "+8602160800000"),
])
def test_digits_the_reading_drops_are_never_shown_beside_the_verdict(seeded, typed, shown):
    # phonenumbers drops a carrier's prefix (11xxx, 12xxx, 179xx) after the country code or the start:
    # "+86 11111 21 6080 0000" was shown as typed beside "official", a number the lender never calls
    # from. The verdict is the number without them, so that number is what is shown.
    answer = seeded().test_client().get("/api/v1/check", query_string={"number": typed}).get_json()
    assert answer["display"] == shown
