"""The SMS channel end to end: signed Twilio webhooks (real RequestValidator), every command in both
languages, duplicates, rate limit, opt-outs, Redis down, and outbound notices through the real
twilio client to a local stand-in for Twilio's REST API."""

import datetime as dt
import threading
import time
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import registry_of
from tests.redis_process import RedisProcess
from tests.twilio_standin import TwilioStandIn
from verify import segments, times
from verify.services import advice, demo
from verify.services.actor import CLI

TOKEN = "test-auth-token"
SID = "AC" + "0" * 32
URL = "http://localhost/sms/inbound"
BORROWER = "+8613800138000"


@pytest.fixture
def standin():
    server = TwilioStandIn()
    yield server
    server.close()


@pytest.fixture
def sms_app(make_app, standin):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID=SID, VERIFY_TWILIO_API_BASE=standin.url)
    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    return app


_counter = iter(range(10**9))


def sign(form, url=URL, token=TOKEN):
    return RequestValidator(token).compute_signature(url, form)


def text(client, body, sender=BORROWER, sid=None, headers=None, url=URL, **extra):
    """POST a correctly signed inbound message; return (status, reply text or None, response)."""
    form = {"MessageSid": sid or f"SM{next(_counter):032x}", "AccountSid": SID, "From": sender,
            "To": "+8610690009518", "Body": body, "NumMedia": "0", **extra}
    signature = {"X-Twilio-Signature": sign(form, url)}
    response = client.post("/sms/inbound", data=form, headers={**signature, **(headers or {})})
    return response.status_code, _message(response), response


def _message(response):
    if response.status_code != 200:
        return None
    assert response.mimetype == "text/xml"
    message = ET.fromstring(response.get_data()).find("Message")
    return None if message is None else message.text


def _eventually(condition, within=5.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def open_session(app, borrower=BORROWER, **extra):
    token = app.extensions["verify"].keys.create(CLI, f"k{next(_counter)}", "sessions")
    body = {"borrower": borrower, "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明",
            "purpose": "贷后回访", **extra}
    response = app.test_client().post("/api/v1/sessions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json(), {"Authorization": f"Bearer {token}"}


# --- signatures ------------------------------------------------------------------------------------
def test_valid_signature_is_answered(sms_app):
    status, reply, _ = text(sms_app.test_client(), "帮助")
    assert status == 200 and "核验码" in reply


def test_changed_parameter_is_refused(sms_app):
    form = {"MessageSid": "SM" + "1" * 32, "From": BORROWER, "Body": "123456"}
    signature = sign(form)
    response = sms_app.test_client().post("/sms/inbound", data={**form, "Body": "654321"},
                                          headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_missing_or_garbage_signature_is_refused(sms_app):
    client = sms_app.test_client()
    form = {"MessageSid": "SM" + "1" * 32, "From": BORROWER, "Body": "123456"}
    assert client.post("/sms/inbound", data=form).status_code == 403
    assert client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}).status_code == 403
    assert client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sign(form, token="other")}).status_code == 403


def test_signature_over_https_url_does_not_match_http_request(sms_app):
    form = {"MessageSid": "SM" + "2" * 32, "From": BORROWER, "Body": "HELP"}
    signature = sign(form, url="https://localhost/sms/inbound")
    assert sms_app.test_client().post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_public_url_setting_is_what_gets_signed(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_PUBLIC_URL="https://verify.example.com/")
    client = app.test_client()
    assert text(client, "HELP", url="https://verify.example.com/sms/inbound")[0] == 200
    assert text(client, "HELP", url=URL)[0] == 403


def test_behind_a_proxy_with_forwarded_headers(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_PROXY_COUNT=1)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.org"}
    assert text(client, "HELP", url="https://sms.example.org/sms/inbound", headers=forwarded)[0] == 200
    assert text(client, "HELP", url=URL, headers=forwarded)[0] == 403


def test_forwarded_headers_are_ignored_without_a_configured_proxy(sms_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    assert text(sms_app.test_client(), "HELP", url="https://evil.example/sms/inbound", headers=forwarded)[0] == 403


def test_extra_unknown_parameters_are_signed_too(sms_app):
    status, reply, _ = text(sms_app.test_client(), "HELP", FromCity="SHANGHAI", SmsStatus="received", ApiVersion="2010-04-01")
    assert status == 200 and reply


def test_fields_sent_twice_and_blank_fields_are_signed_as_twilio_signs_them(sms_app):
    from werkzeug.datastructures import MultiDict

    client = sms_app.test_client()
    form = MultiDict([("MessageSid", "SM" + "3" * 32), ("From", BORROWER), ("Body", "HELP"),
                      ("MediaUrl0", "https://a.example/1?x=1&y=%2B"), ("MediaUrl0", "https://a.example/2"),
                      ("FromCity", ""), ("FromState", "上海 +")])
    headers = {"X-Twilio-Signature": sign(form)}
    response = client.post("/sms/inbound", data=form, headers=headers)
    assert response.status_code == 200 and _message(response)
    changed = form.copy()
    changed.setlist("MediaUrl0", ["https://a.example/1?x=1&y=%2B", "https://evil.example/2"])
    assert client.post("/sms/inbound", data=changed, headers=headers).status_code == 403


def test_replies_read_back_as_sent_whatever_they_hold():
    from verify.messaging import Twilio

    texts = ["核验成功", "a < b && c > d", "\"quoted\" 'single'", "line\nbreak\r\ttab", "emoji 😀 ＋８６",
             "]]> <![CDATA[ x", "&amp; already escaped", "x" * 500]
    for message in texts:
        # What a reader gets back (XML reads a carriage return as a line feed).
        assert ET.fromstring(Twilio.reply(message)).find("Message").text == message.replace("\r", "\n")
    assert ET.fromstring(Twilio.reply(None)).find("Message") is None


def test_without_auth_token_everything_is_refused(make_app, caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        app = make_app()
        assert "TWILIO_AUTH_TOKEN" not in caplog.text  # said when serving, not by every CLI command
        assert text(app.test_client(), "HELP")[0] == 403
    assert "TWILIO_AUTH_TOKEN" in caplog.text


# --- codes ---------------------------------------------------------------------------------------------
def test_right_code_is_genuine_without_repeating_it(sms_app):
    created, _ = open_session(sms_app)
    status, reply, response = text(sms_app.test_client(), created["code"])
    assert status == 200
    assert reply.startswith("核验通过") and "A17" in reply and "王**" in reply and "021 6080 0000" in reply
    assert created["code"] not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "template, english",
    [("{code}", False), ("验证 {code}", False), ("code {code}", True), ("CODE {code}", True), ("{spaced}", False),
     ("{wide}", False), ("验证码是{wide}", False)],
)
def test_code_forms(sms_app, template, english):
    created, _ = open_session(sms_app)
    code = created["code"]
    body = template.format(code=code, spaced=f"{code[:3]} {code[3:]}", wide="".join(chr(ord(c) + 0xFEE0) for c in code))
    reply = text(sms_app.test_client(), body)[1]
    assert "核验通过" in reply or "Verified" in reply
    assert ("Verified" in reply) == english


def test_english_genuine(sms_app):
    created, _ = open_session(sms_app)
    reply = text(sms_app.test_client(), f"code {created['code']}")[1]
    assert reply.startswith("Verified: OK Wallet is calling you") and "A17" in reply


def test_english_genuine_with_a_chinese_agent_name_stays_gsm7(sms_app):
    from tests.test_sms_texts import gsm7_septets

    created, _ = open_session(sms_app, agent_id="CC-2026-0042")
    reply = text(sms_app.test_client(), f"code {created['code']}")[1]
    assert "王" not in reply and gsm7_septets(reply) <= 160
    created, _ = open_session(sms_app, agent_name="Li Wei")
    assert "Agent A17 L**," in text(sms_app.test_client(), f"code {created['code']}")[1]


def test_wrong_code_while_a_session_exists(sms_app):
    created, _ = open_session(sms_app)
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    assert "不符" in text(sms_app.test_client(), wrong)[1]
    assert "does not match" in text(sms_app.test_client(), f"code {wrong}")[1]


def test_no_session_is_not_calling(sms_app):
    reply = text(sms_app.test_client(), "123456")[1]
    assert "现在没有给您打电话" in reply and "400-000-9518" in reply
    assert "is not calling you now" in text(sms_app.test_client(), "code 123456")[1]


def test_wrong_codes_are_counted_per_kind_of_channel(sms_app):
    """Texted from the borrower's own phone, or typed anywhere by anyone: each kind locks only itself."""
    created, _ = open_session(sms_app)
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    client = sms_app.test_client()
    for _ in range(4):
        text(client, wrong)
    assert "暂停" in text(client, wrong)[1]
    assert "暂停" in text(client, "?")[1]  # is it really you calling? locked by SMS: says so
    response = client.post("/api/v1/verify", json={"phone": BORROWER, "code": created["code"]})
    assert response.status_code == 200 and response.get_json()["verdict"] == "genuine"
    # and the other way round, for another borrower: strangers' wrong codes do not lock their own phone
    other = "+8613900000000"
    created, _ = open_session(sms_app, borrower=other)
    for attempt in range(5):
        client.post("/api/v1/verify", json={"phone": other, "code": wrong if wrong != created["code"] else "000000"},
                    environ_base={"REMOTE_ADDR": f"203.0.113.{attempt}"})
    assert "A17" in text(client, "?", sender=other)[1]
    assert "Verified" in text(client, f"code {created['code']}", sender=other)[1]


# --- call status: "are you calling me?" is never verification ---------------------------------------------
STATUS_WORDS = ["?", "？", "核实", "来电", "CALL", "verify", "Verify"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(timestamp, zone=SHANGHAI):
    return dt.datetime.fromtimestamp(timestamp, zone).strftime("%H:%M")


def _when(timestamp, lang, zone=SHANGHAI):
    local = dt.datetime.fromtimestamp(timestamp, zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}" if lang == "zh" else f"{local:%m-%d %H:%M}"


def _state(app, created, headers):
    return app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()


def _wrong_codes(app, kind):
    stored = registry_of(app).sessions
    return stored.store.redis.get(stored.lockout_key(stored.tag(BORROWER), kind))


@pytest.mark.parametrize("body", STATUS_WORDS)
def test_call_status_names_the_agent_and_asks_for_the_code_without_verifying(sms_app, body):
    """An open session: "we are calling you now" (agent id, masked name, number, since when) and "ask the
    caller for the code", never the words of a verified call, and nothing counted: a scammer calling at
    the same moment as our agent must not be "verified" by it."""
    english = body.isascii() and body != "?"
    created, headers = open_session(sms_app, agent_id="CC-2026-0042", agent_name="Li Wei" if english else "王小明")
    client = sms_app.test_client()
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    text(client, wrong)  # one wrong code texted before: the lockout counter stands at 1
    before = (_state(sms_app, created, headers), _wrong_codes(sms_app, "own"), _wrong_codes(sms_app, "any"))
    status, reply, _ = text(client, body)
    assert status == 200
    started = _local(times.parse(created["created_at"]))
    assert "CC-2026-0042" in reply and "021 6080 0000" in reply and started in reply
    assert ("L**" in reply and "calling you now" in reply and "text it here" in reply) if english else (
        "王**" in reply and "正在致电您" in reply and "请对方报核验码" in reply)
    assert "核验通过" not in reply and "Verified" not in reply and "verified" not in reply
    assert created["code"] not in reply
    for _ in range(sms_app.extensions["verify"].settings.max_failures + 1):
        text(client, body)  # asked again and again: still nothing counted, nothing locked
    after = (_state(sms_app, created, headers), _wrong_codes(sms_app, "own"), _wrong_codes(sms_app, "any"))
    assert after == before
    assert (after[0]["status"], after[0]["successful_checks"], after[0]["failed_checks"]) == ("active", 0, 1)
    assert after[0]["locked_channels"] == [] and after[1:] == ("1", None)
    assert "核验通过" in text(client, created["code"])[1]  # the code itself still verifies


@pytest.mark.parametrize("body, lang", [("核实", "zh"), ("?", "zh"), ("CALL", "en"), ("verify", "en")])
def test_call_status_without_a_session_says_hang_up_and_no_call_in_90_days(sms_app, body, lang):
    reply = text(sms_app.test_client(), body)[1]
    if lang == "zh":
        assert "现在没有给您打电话" in reply and "近90天也没有给您来电" in reply and "请挂断" in reply
    else:
        assert "is not calling you now" in reply and "has not called you in 90 days" in reply and "Hang up" in reply
    assert "400-000-9518" in reply and "核验通过" not in reply and "Verified" not in reply


def _last_contact_record(app):
    stored = registry_of(app).sessions
    key = stored.contact_key(stored.tag(BORROWER))
    return key, stored.store.redis.get(key), stored.store.redis.ttl(key)


@pytest.mark.parametrize("channel", ["sms", "api"])
def test_after_a_genuine_code_check_the_status_gives_the_last_contact(sms_app, channel):
    """A code confirmed on any channel leaves the borrower's last-contact record; once the session is
    over, "are you calling me?" says no, hang up, and when and from which number we last called."""
    created, headers = open_session(sms_app, ttl_seconds=3, caller="021-6080-0000")
    client = sms_app.test_client()
    checked_from = time.time()
    if channel == "sms":
        assert "核验通过" in text(client, created["code"])[1]
    else:
        answer = client.post("/api/v1/verify", json={"phone": BORROWER, "code": created["code"]}).get_json()
        assert answer["verdict"] == "genuine"
    checked_by = time.time()
    assert "正在致电您" in text(client, "核实")[1]  # still live: calling now, not the last contact
    _eventually(lambda: _state(sms_app, created, headers)["status"] == "expired")
    key, record, ttl = _last_contact_record(sms_app)
    assert 89 * 86400 < ttl <= 90 * 86400 and "13800138000" not in key + record
    reply = text(client, "核实")[1]
    assert "现在没有给您打电话" in reply and "请挂断" in reply and "021 6080 0000" in reply
    assert any(f"上次回访：{_when(moment, 'zh')}" in reply for moment in (checked_from, checked_by))
    reply = text(client, "CALL")[1]
    assert "is not calling you now" in reply and "Last call from us" in reply
    assert any(f"{_when(moment, 'en')} from 021 6080 0000" in reply for moment in (checked_from, checked_by))


def test_an_ended_session_leaves_the_last_contact_in_the_service_time_zone(make_app):
    """Ended without a code (the agent spoke to the borrower): the same record, shown in VERIFY_TIMEZONE."""
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_TIMEZONE="UTC")
    demo.seed(app.extensions["verify"], logins=False)
    created, headers = open_session(app, caller="021-6080-0099")  # a display variant of the callback line
    client = app.test_client()
    reply = text(client, "CALL")[1]
    assert "has an agent calling you now" in reply and "from 021 6080 0099" in reply and "Verified" not in reply
    ended_from = time.time()
    assert client.delete(f"/api/v1/sessions/{created['id']}", headers=headers).status_code == 204
    ended_by = time.time()
    reply = text(client, "CALL")[1]
    assert "is not calling you now" in reply and "Hang up" in reply and "from 021 6080 0099" in reply
    assert any(f"Last call from us: {_when(moment, 'en', dt.UTC)}" in reply for moment in (ended_from, ended_by))
    assert _last_contact_record(app)[2] > 89 * 86400


def test_a_session_that_expired_unconfirmed_leaves_no_last_contact(sms_app):
    created, headers = open_session(sms_app, ttl_seconds=1)
    _eventually(lambda: _state(sms_app, created, headers)["status"] == "expired")
    assert "近90天也没有给您来电" in text(sms_app.test_client(), "核实")[1]
    assert _last_contact_record(sms_app)[1] is None


# --- check, report, help, unknown -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, expected",
    [
        ("查 021-6080-0000", "官方号码"),
        ("查02160800000", "官方号码"),
        ("查询 400 000 9518", "从不外呼"),
        ("CHECK 4000009518", "never calls out"),
        ("check 021 6080 1111", "no longer uses"),
        ("CHECK 13912345678", "is not an official OK Wallet number"),
        ("查 abc", "没看懂"),
        ("CHECK", "could not read"),
    ],
)
def test_check_a_number(sms_app, body, expected):
    assert expected in text(sms_app.test_client(), body)[1]


@pytest.mark.parametrize("body, words", [
    ("查 6080 0000", ["021 6080 0000", "是OK钱包官方号码"]),
    ("CHECK 60800000", ["021 6080 0000", "is an official"]),
    ("查 1021-6080-0000", ["1021 6080 0000", "冒充"]),
    ("CHECK 0755-6080-0000", ["0755 6080 0000", "imitates our number 021 6080 0000"]),
])
def test_check_shows_numbers_as_typed_and_knows_our_lines_local_digits(sms_app, body, words):
    reply = text(sms_app.test_client(), body)[1]
    assert all(word in reply for word in words), reply
    assert "010 216 080 0000" not in reply


@pytest.mark.parametrize("body, words", [("查 6080 0000", "可能是010、021的号码"), ("CHECK 6080 0000", "area 010 or 021")])
def test_check_of_local_digits_of_two_lines_asks_for_the_area_code(sms_app, key, body, words):
    sms_app.test_client().post("/api/v1/numbers", headers=key("registry"), json={
        "number": "010-6080-0000", "labels": {"zh": "北京", "en": "Beijing"}, "purpose": "callback", "direction": "outbound"})
    reply = text(sms_app.test_client(), body)[1]
    assert words in reply and "400-000-9518" in reply, reply


def test_check_lookalike_names_the_official_number(sms_app, key):
    sms_app.test_client().post("/api/v1/numbers", headers=key("registry"), json={
        "number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"})
    reply = text(sms_app.test_client(), "CHECK 0095188")[1]
    assert "imitates our number 95188" in reply


@pytest.mark.parametrize("body, lang", [("举报 021-9999-8888 冒充客服要验证码", "zh"), ("REPORT +86 21 9999 8888 asked for my code", "en")])
def test_report_is_filed_durably_with_a_reference(sms_app, body, lang):
    reply = text(sms_app.test_client(), body)[1]
    reference = reply.split("编号")[1].split("，")[0] if lang == "zh" else reply.split("reference ")[1].split(".")[0]
    stored = registry_of(sms_app).reports.get(reference)
    assert stored["number"] == "+862199998888" and stored["source"] == "sms" and stored["status"] == "new"
    assert stored["text"] in ("冒充客服要验证码", "asked for my code")
    assert stored["contact_masked"] == "138****8000" and BORROWER not in str(stored)
    counts = registry_of(sms_app).reports.reporter_counts("+862199998888", int(time.time()))
    assert counts == {1: 1, 7: 1, 30: 1}


@pytest.mark.parametrize("body, categories, kept", [
    ("举报 021-9999-8888，冒充客服要验证码！还让我转账到“安全账户”。", ["sms_code", "transfer"], "冒充客服要验证码！还让我转账到“安全账户”。"),
    ("举报０２１９９９９８８８８：说要注销校园贷，否则影响征信？", ["cancel_account"], "说要注销校园贷，否则影响征信？"),
    ("举报 021 9999 8888 让我下载腾讯会议，开屏幕共享；说是警察。", ["screen_share", "police_court"], "让我下载腾讯会议，开屏幕共享；说是警察。"),
    ("REPORT 021 9999 8888: asked for my code, then a transfer!", ["sms_code", "transfer"], "asked for my code, then a transfer!"),
    ("REPORT 021 9999 8888 wanted me to screen share and cancel my account", ["screen_share", "cancel_account"],
     "wanted me to screen share and cancel my account"),
    ("REPORT 021 9999 8888 said my credit record is bad; threatened me", ["cancel_account", "threats"],
     "said my credit record is bad; threatened me"),
    ("举报 021 9999 8888 冒充客服", ["other"], "冒充客服"),
    # Scam texts carry invisible characters to slip past filters; pasted into a report they refused it
    # (the usage reply, nothing filed) and hid its words: format characters go, controls become spaces.
    ("举报 021 9999 8888 要验\u200b证\u200b码，转\u2060账\u202e到\ufeff安全账户", ["sms_code", "transfer"], "要验证码，转账到安全账户"),
    ("REPORT 021 9999 8888 asked for my code\x07then a tran\u00adsfer", ["sms_code", "transfer"],
     "asked for my code then a transfer"),
    ("举报 021\u200b9999\u200b8888 要验证码", ["sms_code"], "要验证码"),
    ("举报 021 9999 8888", [], ""),
])
def test_sms_report_takes_categories_from_its_words_and_keeps_its_punctuation(sms_app, body, categories, kept):
    """An SMS report has no checkboxes: its words give the categories, so the overview counts texted
    reports too; the text is stored as written, full-width punctuation and quotes included."""
    reply = text(sms_app.test_client(), body)[1]
    reference = reply.split("编号")[1].split("，")[0] if "编号" in reply else reply.split("reference ")[1].split(".")[0]
    stored = registry_of(sms_app).reports.get(reference)
    assert stored["text"] == kept and stored["categories"] == ",".join(categories)
    assert stored["number"] == "+862199998888"
    overview = sms_app.extensions["verify"].review.overview()["categories"]
    assert {name for name, count in overview.items() if count} == set(categories)


def test_report_twice_counts_one_reporter(sms_app):
    client = sms_app.test_client()
    text(client, "举报 021-9999-8888")
    text(client, "举报 021-9999-8888 again")
    assert registry_of(sms_app).reports.reporter_counts("+862199998888", int(time.time()))[1] == 1


@pytest.mark.parametrize("body, expected", [("帮助", "核验码"), ("HELP", "6-digit code"), ("info", "6-digit code"),
                                            ("你好", "帮助"), ("hello there", "HELP for more"), ("", "帮助"), ("12345", "帮助")])
def test_help_and_anything_else(sms_app, body, expected):
    status, reply, _ = text(sms_app.test_client(), body)
    assert status == 200 and expected in reply


@pytest.mark.parametrize("body, lang", [("举报", "zh"), ("举报 ", "zh"), ("REPORT", "en"), ("report", "en"),
                                        ("举报 冒充客服", "zh"), ("REPORT asked for my code", "en")])
def test_report_without_a_number_answers_how_to_report(sms_app, body, lang):
    """举报 / REPORT with no number it can read: the report usage (it was the CHECK hint), nothing filed."""
    status, reply, _ = text(sms_app.test_client(), body)
    assert status == 200 and reply == advice.sms("report_usage", lang, sms_app.extensions["verify"].settings.brand_texts)
    assert ("举报 " in reply and "查 " not in reply) if lang == "zh" else ("REPORT" in reply and "CHECK" not in reply)
    assert registry_of(sms_app).reports.count_by_status(("new",)) == {"new": 0}


@pytest.mark.parametrize("body", ["帮助", "HELP", "你好", "hello there", "举报", "REPORT", "查 abc", "CHECK abc"])
def test_help_and_usage_replies_say_hang_up_and_call_the_hotline_in_one_sms(sms_app, body):
    reply = text(sms_app.test_client(), body)[1]
    assert "400-000-9518" in reply and ("挂断" in reply or "Hang up and call" in reply)
    assert segments.count(reply).count == 1


# --- opt-out -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "CANCEL", "END", "QUIT", "STOPALL", "退订"])
def test_opt_out_gets_an_empty_response_and_skips_notices(sms_app, standin, word):
    status, reply, response = text(sms_app.test_client(), word)
    assert status == 200 and reply is None
    assert ET.fromstring(response.get_data()).tag == "Response" and len(ET.fromstring(response.get_data())) == 0
    created, headers = open_session(sms_app, notify=True)
    assert created["notice"] == "skipped_opted_out"
    assert standin.sent == []
    text(sms_app.test_client(), "START")
    created, headers = open_session(sms_app, notify=True)
    assert created["notice"] == "pending"
    assert standin.event.wait(5)


# --- duplicates and limits ------------------------------------------------------------------------------------
def test_same_message_sid_gets_the_same_reply_and_counts_once(sms_app):
    created, headers = open_session(sms_app)
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    client = sms_app.test_client()
    first = text(client, wrong, sid="SM" + "a" * 32)[1]
    for _ in range(6):
        assert text(client, wrong, sid="SM" + "a" * 32)[1] == first
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
    assert state["failed_checks"] == 1 and state["status"] == "active"


def test_a_retried_code_gets_the_first_reply_even_after_the_session_ended(sms_app):
    created, headers = open_session(sms_app)
    client = sms_app.test_client()
    first = text(client, created["code"], sid="SM" + "c" * 32)[1]
    assert "核验通过" in first
    assert client.delete(f"/api/v1/sessions/{created['id']}", headers=headers).status_code == 204
    # The retry is answered from the claim, word for word, and is not checked (or counted) again ...
    assert text(client, created["code"], sid="SM" + "c" * 32)[1] == first
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
    assert state["successful_checks"] == 1 and state["failed_checks"] == 0
    # ... while a new message with the same code is checked against the ended session.
    assert "核验通过" not in text(client, created["code"])[1]
    # A wrong code's retry too: same words, one failure counted.
    again = f"{(int(created['code']) + 1) % 1000000:06d}"
    wrong = text(client, again, sid="SM" + "d" * 32)[1]
    assert text(client, again, sid="SM" + "d" * 32)[1] == wrong and "核验通过" not in wrong


def test_same_message_sid_at_the_same_moment(sms_app):
    created, headers = open_session(sms_app)
    replies = []
    barrier = threading.Barrier(4)

    def deliver():
        client = sms_app.test_client()
        barrier.wait()
        replies.append(text(client, created["code"], sid="SM" + "b" * 32)[1])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replies) == 4 and len(set(replies)) == 1 and "核验通过" in replies[0]
    state = sms_app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
    assert state["successful_checks"] == 1


def test_per_sender_limit_with_one_polite_reply(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_SMS_RATE_LIMIT=3)
    client = app.test_client()
    replies = [text(client, "HELP")[1] for _ in range(6)]
    assert all(replies[:3]) and "Too many messages" in replies[3]
    assert replies[4] is None and replies[5] is None
    assert text(client, "HELP", sender="+8613900000000")[1]  # others are not affected


# --- failing closed ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_redis_down_gives_the_unavailable_reply_within_two_seconds(make_app, tmp_path):
    private = RedisProcess(tmp_path / "sms-redis").start()
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, REDIS_URL=private.url)
    private.stop()
    client = app.test_client()
    for body, expected in (("123456", "暂时无法核实"), ("code 123456", "cannot check"), ("查 95188", "暂时无法查询"),
                           ("?", "暂时无法核实"), ("举报 02199998888", "暂时无法核实")):
        started = time.monotonic()
        status, reply, _ = text(client, body)
        assert time.monotonic() - started < 2
        assert status == 200 and expected in reply and "400-000-9518" in reply


# --- outbound notices ------------------------------------------------------------------------------------------
def _wait_notice(app, created, headers):
    client = app.test_client()
    for _ in range(200):
        state = client.get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
        if state["notice"] != "pending":
            return state["notice"]
        time.sleep(0.02)
    raise AssertionError("notice still pending")


def test_notice_goes_through_the_twilio_client(sms_app, standin):
    created, headers = open_session(sms_app, notify=True, ttl_seconds=900)
    assert created["notice"] == "pending"
    assert _wait_notice(sms_app, created, headers) == "sent"
    (message,) = standin.sent
    assert message["To"] == BORROWER and message["From"] == "10690009518"
    assert "15分钟" in message["Body"] and "021 6080 0000" in message["Body"]
    assert created["code"] not in message["Body"]
    assert message["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"


def test_failed_notice_is_recorded_and_does_not_fail_the_api(make_app):
    server = TwilioStandIn(fail=True)
    try:
        app = make_app(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID=SID, VERIFY_TWILIO_API_BASE=server.url)
        svc = app.extensions["verify"]
        demo.seed(svc, logins=False)
        created, headers = open_session(app, notify=True)
        assert _wait_notice(app, created, headers) == "failed"
    finally:
        server.close()


def test_slow_twilio_does_not_slow_the_api(make_app):
    server = TwilioStandIn(delay=1.5)
    try:
        app = make_app(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID=SID, VERIFY_TWILIO_API_BASE=server.url,
                       VERIFY_NOTICE_TIMEOUT=0.5)
        svc = app.extensions["verify"]
        demo.seed(svc, logins=False)
        started = time.monotonic()
        created, headers = open_session(app, notify=True)
        assert time.monotonic() - started < 0.5
        assert _wait_notice(app, created, headers) == "failed"  # the 0.5 s timeout ran out
    finally:
        server.close()


def test_without_credentials_the_notice_is_logged(make_app, caplog):
    import logging

    app = make_app(TWILIO_AUTH_TOKEN=TOKEN)
    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    with caplog.at_level(logging.INFO, logger="verify.services.callbacks"):
        created, headers = open_session(app, notify=True)
    assert created["notice"] == "logged"
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text
    assert app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()["notice"] == "logged"


def test_no_notice_unless_asked(sms_app, standin):
    created, headers = open_session(sms_app)
    assert "notice" not in created
    time.sleep(0.1)
    assert standin.sent == []


def test_odd_signature_headers_are_refused_not_crashed(sms_app):
    form = {"MessageSid": "SM" + "3" * 32, "From": BORROWER, "Body": "HELP"}
    for header in ("签名", "é" * 28, "x" * 5000, ""):
        response = sms_app.test_client().post("/sms/inbound", data=form, headers={"X-Twilio-Signature": header})
        assert response.status_code == 403


def test_a_texted_code_takes_one_round_trip(sms_app, monkeypatch, redis_server):
    from tests.test_store import RoundTrips

    created, _ = open_session(sms_app)
    client = sms_app.test_client()
    text(client, "000000", sender="+8613900000001")  # warm up: scripts loaded once per server
    redis_server.reset_stats()
    trips = RoundTrips(monkeypatch)
    assert "核验通过" in text(client, created["code"])[1]
    assert trips.count == 1  # claim, code check and the kept outcome in one call
    assert redis_server.command_calls("hset") == 1  # the claim is written once, with the check
