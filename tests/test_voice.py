"""The voice hotline end to end: calls walked step by step through signed Twilio webhooks (the real
RequestValidator), each step's TwiML parsed and checked, every menu path in both languages, the
signature refusals, failing closed on a stopped and a frozen Redis, the lockout shared with the web and
API, per-caller limits, and Twilio's retries of one step counted once."""

import os
import re
import signal
import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from tests.redis_process import RedisProcess
from tests.test_sms import open_session, text
from verify.services import advice, demo
from verify.services.actor import CLI

TOKEN = "test-auth-token"
ACCOUNT = "AC" + "0" * 32
WEBHOOK = "http://localhost/voice/inbound"
BORROWER = "+8613800138000"
CALLER_ZH = "零 二 幺，六 零 八 零，零 零 零 零"  # 021 6080 0000, the demo's callback line, said digit by digit
CALLER_EN = "0 2 1, 6 0 8 0, 0 0 0 0"
_sids = iter(range(10**9))


@pytest.fixture
def voice_app(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN)
    demo.seed(app.extensions["verify"], logins=False)
    return app


def sign(form, url, token=TOKEN):
    return RequestValidator(token).compute_signature(url, form)


def post(client, url=WEBHOOK, sid=None, sender=BORROWER, digits=None, signed_url=None, headers=None):
    """POST one step of a call to ``url`` (its query included), signed over ``signed_url`` (default: ``url``)."""
    form = {"CallSid": sid or f"CA{next(_sids):032x}", "AccountSid": ACCOUNT, "From": sender, "To": "+864000009518",
            "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    if digits is not None:
        form["Digits"] = digits
    parts = urlsplit(url)
    signature = {"X-Twilio-Signature": sign(form, signed_url or url)}
    return client.post(parts.path, query_string=parts.query, data=form, headers={**signature, **(headers or {})})


def twiml(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def the_gather(root, base=WEBHOOK):
    """The step's one <Gather>: keys only, posted (also when none is pressed) to a URL of the webhook."""
    gathers = list(root.iter("Gather"))
    assert len(gathers) == 1, ET.tostring(root, encoding="unicode")
    gather = gathers[0]
    assert gather.get("input") == "dtmf" and gather.get("method") == "POST" and gather.get("actionOnEmptyResult") == "true"
    assert gather.get("action").startswith(base + "?step=")
    return gather


def step_of(gather):
    """The action's query: {'step': ..., 'lang': ..., 'try': ...}."""
    return {name: values[0] for name, values in parse_qs(urlsplit(gather.get("action")).query).items()}


def says(root):
    """Every <Say>, in order: (language, text)."""
    return [(say.get("language"), say.text) for say in root.iter("Say")]


def words(root):
    return " ".join(text for _lang, text in says(root))


def ends_the_call(root):
    """No <Gather> left, and the last verb hangs up."""
    assert not list(root.iter("Gather"))
    assert list(root)[-1].tag == "Hangup"


class Call:
    """One call to the hotline: each ``press`` posts keys to the last step's <Gather> action, signed
    over that URL as Twilio signs it."""

    def __init__(self, client, sender=BORROWER, lang="zh", base=WEBHOOK, headers=None):
        self.client, self.sender, self.base, self.headers = client, sender, base, headers
        self.sid = f"CA{next(_sids):032x}"
        self.last = twiml(post(client, base, self.sid, sender, headers=headers))
        if lang == "en":
            self.press("9")

    def action(self):
        return the_gather(self.last, self.base).get("action")

    def press(self, digits):
        """Press ``digits`` ('' for none: the <Gather> timed out) at the current step; its TwiML."""
        self.last = twiml(post(self.client, self.action(), self.sid, self.sender, digits=digits, headers=self.headers))
        return self.last


def wrong(code):
    return f"{(int(code) + 1) % 1000000:06d}"


def session_state(app, created, headers):
    return app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()


# --- the greeting and the menu -------------------------------------------------------------------------------
def test_a_call_starts_in_mandarin_then_offers_english_then_the_menu(voice_app):
    root = Call(voice_app.test_client()).last
    assert [child.tag for child in root] == ["Gather"]  # everything is said while the keys are listened for
    gather = the_gather(root)
    assert gather.get("numDigits") == "1" and step_of(gather) == {"step": "menu", "lang": "zh", "try": "0"}
    (greeting, english, menu) = says(root)
    assert greeting == ("cmn-CN", "您好，这里是OK钱包官方客服热线。")
    assert english == ("en-US", "For English, press 9.")
    assert menu[0] == "cmn-CN" and all(f"请按{key}" in menu[1] for key in "1230")
    voices = {say.get("language"): say.get("voice") for say in root.iter("Say")}
    assert voices == {"cmn-CN": "Polly.Zhiyu-Neural", "en-US": "Polly.Joanna-Neural"}


def test_the_voices_are_settings(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_ZH="Google.cmn-CN-Standard-A", VERIFY_VOICE_EN="Polly.Matthew")
    root = Call(app.test_client()).last
    assert {say.get("language"): say.get("voice") for say in root.iter("Say")} == {
        "cmn-CN": "Google.cmn-CN-Standard-A", "en-US": "Polly.Matthew"}


def test_9_is_the_menu_in_english(voice_app):
    root = Call(voice_app.test_client(), lang="en").last
    assert {lang for lang, _text in says(root)} == {"en-US"}
    assert step_of(the_gather(root)) == {"step": "menu", "lang": "en", "try": "0"}
    assert "OK Wallet hotline" in words(root) and "press 1" in words(root) and "press 0" in words(root)


# --- 1: verify the call you are on --------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_1_with_the_right_code_reads_the_agent_and_number_digit_by_digit(voice_app, lang):
    created, headers = open_session(voice_app)
    call = Call(voice_app.test_client(), lang=lang)
    gather = the_gather(call.press("1"))
    assert gather.get("numDigits") == "6" and step_of(gather) == {"step": "code", "lang": lang, "try": "0"}
    assert ("6位核验码" if lang == "zh" else "6-digit code") in words(call.last)
    root = call.press(created["code"])
    ends_the_call(root)
    (result, goodbye) = says(root)
    assert result[0] == ("cmn-CN" if lang == "zh" else "en-US")
    if lang == "zh":
        assert result[1].startswith("核验通过：OK钱包正在给您回访。") and "客服王某" in result[1]
        assert "工号A 幺 七" in result[1] and CALLER_ZH in result[1]
    else:
        assert result[1].startswith("Verified: OK Wallet is calling you.") and "Agent A 1 7," in result[1]
        assert CALLER_EN in result[1] and "王" not in result[1]  # an English voice cannot say it
    assert not re.search(r"\d\d", result[1])  # every number one digit at a time
    assert created["code"] not in ET.tostring(root, encoding="unicode")
    assert ("再见" if lang == "zh" else "Goodbye") in goodbye[1]
    assert session_state(voice_app, created, headers)["successful_checks"] == 1  # the session shows the check


@pytest.mark.parametrize("lang, expected", [("zh", "客服L某"), ("en", "Agent C C, 4 2, whose name begins with L,")])
def test_a_latin_agent_name_is_said_masked(voice_app, lang, expected):
    created, _ = open_session(voice_app, agent_name="Li Wei", agent_id="CC-42")
    call = Call(voice_app.test_client(), lang=lang)
    call.press("1")
    assert expected in words(call.press(created["code"])) and "Wei" not in words(call.last)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_1_with_a_wrong_code_or_no_call_says_it_is_not_the_lender(voice_app, lang):
    expected = ("这通电话不是OK钱包打的", "请挂断那通电话", "绝不会索要短信验证码", "绝不会让您转账") if lang == "zh" else (
        "This call is not from OK Wallet", "Hang up that call", "never asks for SMS codes", "never asks you to move money")
    answers = []
    for has_session in (True, False):
        call = Call(voice_app.test_client(), sender=BORROWER if has_session else "+8613900000001", lang=lang)
        if has_session:
            created, headers = open_session(voice_app)
        call.press("1")
        root = call.press(wrong(created["code"]) if has_session else "123456")
        ends_the_call(root)
        assert all(part in words(root) for part in expected) and "核验通过" not in words(root)
        answers.append(says(root))
    assert answers[0] == answers[1]  # a wrong code and no session at all sound the same
    state = session_state(voice_app, created, headers)
    assert state["failed_checks"] == 1 and state["successful_checks"] == 0


@pytest.mark.parametrize("sender", ["anonymous", "+266696687", "", "+862160801234"])
def test_1_needs_the_callers_own_mobile_number(voice_app, sender):
    call = Call(voice_app.test_client(), sender=sender)
    root = call.press("1")
    assert "看不到您的手机号码" in words(root)
    assert step_of(the_gather(root)) == {"step": "menu", "lang": "zh", "try": "0"}  # the menu again


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_short_code_is_asked_for_once_more_then_goodbye(voice_app, lang):
    call = Call(voice_app.test_client(), lang=lang)
    call.press("1")
    root = call.press("1234")
    assert step_of(the_gather(root)) == {"step": "code", "lang": lang, "try": "1"}
    assert ("6位数字" if lang == "zh" else "6 digits") in words(root)
    root = call.press("")
    ends_the_call(root)
    assert ("再见" if lang == "zh" else "Goodbye") in words(root)


# --- 2: check a number ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("keyed, zh, en", [
    ("02160800000", ("官方号码", "来电显示可以伪造", "在本热线按1核对"), ("official OK Wallet number", "caller ID can be faked")),
    ("4000009518", ("只接听、从不外呼", "请挂断那通电话"), ("never calls out", "Hang up that call")),
    ("02160801111", ("已停用",), ("no longer uses this number",)),
    ("13912345678", ("不是OK钱包的官方号码", "请挂断那通电话", "绝不会索要"), ("not an official OK Wallet number", "never asks")),
])
def test_2_reads_the_verdict_then_the_menu_again(voice_app, lang, keyed, zh, en):
    call = Call(voice_app.test_client(), lang=lang)
    gather = the_gather(call.press("2"))
    assert gather.get("finishOnKey") == "#" and gather.get("numDigits") is None
    assert step_of(gather) == {"step": "number", "lang": lang, "try": "0"}
    root = call.press(keyed)
    said = says(root)[0][1]
    assert all(part in said for part in (zh if lang == "zh" else en)), said
    digits = advice.spoken(keyed, lang)
    assert said.startswith(f"您输入的号码是{digits[:5]}" if lang == "zh" else f"You keyed in {digits[:5]}")
    assert not re.search(r"\d\d", said)
    assert step_of(the_gather(root)) == {"step": "menu", "lang": lang, "try": "0"}


def test_2_reads_a_number_as_keyed_when_it_is_shown_otherwise(voice_app):
    call = Call(voice_app.test_client())
    call.press("2")
    assert "您输入的号码是零 零 九 五 幺 八 八。" in words(call.press("0095188"))  # not "+95 188"


def test_2_our_line_keyed_without_its_area_code_is_read_back_in_full_as_official(voice_app):
    call = Call(voice_app.test_client())
    call.press("2")
    said = words(call.press("60800000"))
    assert "您输入的号码是零 二 幺，六 零 八 零，零 零 零 零。" in said and "这是OK钱包的官方号码" in said


def test_2_local_digits_of_two_of_our_lines_are_asked_for_again_with_the_area_code(voice_app):
    voice_app.extensions["verify"].numbers.add(CLI, {"number": "010-6080-0000", "labels": {"zh": "北京", "en": "Beijing"},
                                                     "purpose": "callback", "direction": "outbound"})
    call = Call(voice_app.test_client(), lang="en")
    call.press("2")
    root = call.press("60800000")
    assert "again with the area code" in words(root)
    assert step_of(the_gather(root)) == {"step": "number", "lang": "en", "try": "1"}


def test_2_an_unreadable_number_is_asked_for_once_more(voice_app):
    call = Call(voice_app.test_client(), lang="en")
    call.press("2")
    root = call.press("")
    assert "could not read that number" in words(root)
    assert step_of(the_gather(root)) == {"step": "number", "lang": "en", "try": "1"}
    ends_the_call(call.press("12"))


# --- 0 (3, a callback request: tests/test_callback_requests.py) ------------------------------------------------
@pytest.mark.parametrize("lang, hours", [("zh", "每天9点到21点"), ("en", "every day from 9 am to 9 pm")])
def test_0_says_the_hotline_hours_then_the_menu(voice_app, lang, hours):
    call = Call(voice_app.test_client(), lang=lang)
    root = call.press("0")
    assert hours in says(root)[0][1]
    assert not list(root.iter("Dial"))
    assert step_of(the_gather(root)) == {"step": "menu", "lang": lang, "try": "0"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_0_dials_the_agent_number_when_there_is_one(make_app, lang):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_AGENT_NUMBER="021-6080-1234")
    call = Call(app.test_client(), lang=lang)
    root = call.press("0")
    assert [child.tag for child in root] == ["Say", "Dial", "Say", "Hangup"]
    assert root.find("Dial").text == "+862160801234"
    assert ("转接人工客服" if lang == "zh" else "Putting you through") in says(root)[0][1]


def test_the_hours_are_a_setting(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_HOTLINE_HOURS="08:30-17:00")
    assert "每天8点30分到17点" in words(Call(app.test_client()).press("0"))
    assert "every day from 8:30 am to 5 pm" in words(Call(app.test_client(), lang="en").press("0"))


@pytest.mark.parametrize("setting", [{"VERIFY_HOTLINE_HOURS": "9-21"}, {"VERIFY_HOTLINE_HOURS": "25:00-26:00"},
                                     {"VERIFY_VOICE_AGENT_NUMBER": "not a number"}, {"VERIFY_VOICE_CODE_LIMIT": 0}])
def test_bad_voice_settings_are_refused(make_app, setting):
    from verify.settings import ConfigError

    with pytest.raises(ConfigError):
        make_app(**setting)


# --- no key, a wrong key ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("keys", [("", ""), ("7", "8"), ("", "*")])
def test_no_key_or_a_wrong_one_repeats_the_menu_once_then_goodbye(voice_app, lang, keys):
    call = Call(voice_app.test_client(), lang=lang)
    root = call.press(keys[0])
    assert step_of(the_gather(root)) == {"step": "menu", "lang": lang, "try": "1"}
    assert says(root)[0][1] == ("对不起，没有收到有效的按键。" if lang == "zh" else "Sorry, we did not get a valid key.")
    assert ("请按1" if lang == "zh" else "press 1") in words(root)
    root = call.press(keys[1])
    ends_the_call(root)
    assert ("感谢您的来电，再见。" if lang == "zh" else "Thank you for calling. Goodbye.") == says(root)[-1][1]


# --- signatures -----------------------------------------------------------------------------------------------------------
def test_unsigned_or_wrongly_signed_requests_are_refused(voice_app):
    client = voice_app.test_client()
    form = {"CallSid": "CA" + "1" * 32, "From": BORROWER, "Digits": "1"}
    url = WEBHOOK + "?step=menu&lang=zh&try=0"
    assert client.post("/voice/inbound", data=form).status_code == 403
    assert client.post("/voice/inbound", data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}).status_code == 403
    assert post(client, url, digits="1", signed_url=url).status_code == 200
    assert client.post("/voice/inbound", query_string="step=menu&lang=zh&try=0", data=form,
                       headers={"X-Twilio-Signature": sign(form, url, token="other")}).status_code == 403
    # Twilio signs the query too: another step, or the webhook's bare URL, is not what it signed.
    assert post(client, WEBHOOK + "?step=code&lang=zh&try=0", digits="123456", signed_url=url).status_code == 403
    assert post(client, url, digits="1", signed_url=WEBHOOK).status_code == 403
    signature = sign(form, url)
    assert client.post("/voice/inbound", query_string="step=menu&lang=zh&try=0", data={**form, "Digits": "0"},
                       headers={"X-Twilio-Signature": signature}).status_code == 403


def test_without_an_auth_token_every_call_is_refused(make_app):
    app = make_app()
    assert post(app.test_client()).status_code == 403


def test_the_public_url_is_signed_and_every_action_is_under_it(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_PUBLIC_URL="https://verify.example.com/")
    client = app.test_client()
    assert post(client).status_code == 403  # signed over http://localhost
    call = Call(client, base="https://verify.example.com/voice/inbound")
    assert call.action().startswith("https://verify.example.com/voice/inbound?step=menu")
    call.press("2")
    assert "官方号码" in words(call.press("02160800000"))


def test_behind_a_proxy_the_forwarded_url_is_signed_and_used(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_PROXY_COUNT=1)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "voice.example.org"}
    call = Call(app.test_client(), base="https://voice.example.org/voice/inbound", headers=forwarded)
    assert "Polly" in call.last.find("Gather/Say").get("voice")
    call.press("3")
    assert post(app.test_client(), headers=forwarded).status_code == 403  # signed over http://localhost


def test_forwarded_headers_are_ignored_without_a_configured_proxy(voice_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    url = "https://evil.example/voice/inbound"
    assert post(voice_app.test_client(), url, signed_url=url, headers=forwarded).status_code == 403


# --- the lockout shared with the web and the API -------------------------------------------------------------------------
def test_wrong_codes_by_voice_lock_the_web_and_api_not_the_borrowers_texts(voice_app):
    created, headers = open_session(voice_app)
    client = voice_app.test_client()
    for _ in range(5):
        call = Call(client)
        call.press("1")
        said = words(call.press(wrong(created["code"])))
    assert "电话核验已暂停" in said and "发送到幺 零 六 九 零 零 零 九 五 幺 八" in said  # the 5th: locked, text it
    response = client.post("/api/v1/verify", json={"phone": BORROWER, "code": created["code"]})
    assert response.status_code == 429 and response.get_json()["verdict"] == "locked"
    call = Call(client)
    call.press("1")
    assert "电话核验已暂停" in words(call.press(created["code"]))  # the right code by voice is locked too
    state = session_state(voice_app, created, headers)
    assert state["locked_channels"] == ["web_api"] and state["successful_checks"] == 0
    assert "核验通过" in text(client, created["code"])[1]  # texted from the borrower's own phone: still verifies


def test_wrong_codes_texted_do_not_lock_the_hotline(voice_app):
    created, _ = open_session(voice_app)
    client = voice_app.test_client()
    for _ in range(5):
        text(client, wrong(created["code"]))
    assert "暂停" in text(client, created["code"])[1]
    call = Call(client)
    call.press("1")
    assert "核验通过" in words(call.press(created["code"]))


# --- Twilio's retries, per-caller limits --------------------------------------------------------------------------------
def test_a_retried_code_step_gets_the_same_answer_and_counts_once(voice_app):
    created, headers = open_session(voice_app)
    client = voice_app.test_client()
    call = Call(client)
    call.press("1")
    action = call.action()
    first = post(client, action, call.sid, digits=wrong(created["code"])).get_data()
    for _ in range(3):
        assert post(client, action, call.sid, digits=wrong(created["code"])).get_data() == first
    assert session_state(voice_app, created, headers)["failed_checks"] == 1
    # A right code's retry too, word for word, after the session ended.
    call = Call(client)
    call.press("1")
    action = call.action()
    genuine = post(client, action, call.sid, digits=created["code"]).get_data()
    assert "核验通过" in genuine.decode()
    assert client.delete(f"/api/v1/sessions/{created['id']}", headers=headers).status_code == 204
    assert post(client, action, call.sid, digits=created["code"]).get_data() == genuine
    state = session_state(voice_app, created, headers)
    assert state["successful_checks"] == 1 and state["failed_checks"] == 1


def test_calls_per_caller_are_limited_and_a_retried_first_request_counts_once(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_CALL_LIMIT=2)
    client = app.test_client()
    for _ in range(3):
        the_gather(twiml(post(client, sid="CA" + "a" * 32)))  # one call, its first request sent three times
    the_gather(twiml(post(client, sid="CA" + "b" * 32)))
    for _ in range(2):
        root = twiml(post(client, sid="CA" + "c" * 32))  # the third call, and Twilio's retry of it
        ends_the_call(root)
        assert "来电太频繁" in words(root)
    the_gather(twiml(post(client, sender="+8613900000002")))  # other callers are not affected


def test_codes_per_caller_are_limited(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_CODE_LIMIT=2)
    demo.seed(app.extensions["verify"], logins=False)
    created, headers = open_session(app)
    client = app.test_client()
    for _ in range(2):
        call = Call(client)
        call.press("1")
        assert "核验通过" in words(call.press(created["code"]))
    call = Call(client)
    call.press("1")
    action = call.action()
    for _ in range(2):  # refused, and Twilio's retry of it too; nothing checked
        root = twiml(post(client, action, call.sid, digits=created["code"]))
        ends_the_call(root)
        assert "输入核验码的次数太多" in words(root) and "核验通过" not in words(root)
    assert session_state(app, created, headers)["successful_checks"] == 2


@pytest.mark.parametrize("hidden", ["anonymous", "Restricted", ""])
def test_one_hidden_caller_cannot_use_up_the_hotline_of_every_hidden_caller(make_app, hidden):
    # Hidden numbers cannot be told apart: one counter for all of them let one caller who hides their
    # number, calling again and again, refuse the hotline to everyone else who hides theirs.
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_CALL_LIMIT=2)
    demo.seed(app.extensions["verify"], logins=False)
    client = app.test_client()
    for _ in range(5):
        the_gather(twiml(post(client, sender="anonymous")))
    call = Call(client, sender=hidden)
    call.press("2")
    assert "官方号码" in words(call.press("02160800000"))


SMS_ZH = "发送到幺 零 六 九 零 零 零 九 五 幺 八"  # the official SMS number, said


def test_a_spoofer_using_up_a_borrowers_hotline_allowance_leaves_them_the_sms_way(make_app):
    # Caller ID can be faked: anyone can spend the borrower's calls and keyed-in codes on the hotline.
    # The refusal the borrower then hears must send them where a stranger cannot lock them out: a text
    # of the code from their own phone.
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_VOICE_CALL_LIMIT=3, VERIFY_VOICE_CODE_LIMIT=2)
    demo.seed(app.extensions["verify"], logins=False)
    created, _ = open_session(app)
    client = app.test_client()
    for _ in range(2):  # the spoofer, showing the borrower's number, keys in two wrong codes
        call = Call(client)
        call.press("1")
        call.press(wrong(created["code"]))
    call = Call(client)  # the borrower, with the right code: no more codes by voice this hour
    call.press("1")
    refused = words(call.press(created["code"]))
    assert "输入核验码的次数太多" in refused and SMS_ZH in refused and "核验通过" not in refused
    refused = words(twiml(post(client)))  # and no more calls at all
    assert "来电太频繁" in refused and SMS_ZH in refused and "不要相信" in refused
    the_gather(twiml(post(client, sender="+8613900000004")))  # (another number is not refused)
    assert "核验通过" in text(client, created["code"])[1]  # the way the refusal names still verifies


def test_a_keyed_in_code_takes_one_round_trip(voice_app, monkeypatch):
    from tests.test_store import RoundTrips

    created, _ = open_session(voice_app)
    client = voice_app.test_client()
    warm_up = Call(client, sender="+8613900000003")  # scripts are loaded once per server
    warm_up.press("1")
    warm_up.press("000000")
    call = Call(client)
    call.press("1")
    trips = RoundTrips(monkeypatch)
    assert "核验通过" in words(call.press(created["code"]))
    assert trips.count == 1  # claim, limit, code check and the kept outcome in one call


# --- failing closed ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def private_redis(tmp_path):
    server = RedisProcess(tmp_path / "voice-redis").start()
    yield server
    if server.proc.poll() is None:
        os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def _unavailable(root, started):
    assert time.monotonic() - started < 2
    ends_the_call(root)
    said = words(root)
    assert "暂时无法核实" in said and "请不要相信给您打电话的人" in said and "请挂断" in said
    assert "核验通过" not in said


def _code_and_number_steps(app):
    """A session, the URLs of a code step and a number step, taken while Redis answers."""
    created, _ = open_session(app)
    client = app.test_client()
    call = Call(client)
    code_step = the_gather(call.press("1")).get("action")
    call = Call(client)
    number_step = the_gather(call.press("2")).get("action")
    return created["code"], code_step, number_step


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_redis_down_or_frozen_every_step_warns_and_hangs_up_within_two_seconds(make_app, private_redis, fault):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, REDIS_URL=private_redis.url)
    demo.seed(app.extensions["verify"], logins=False)
    code, code_step, number_step = _code_and_number_steps(app)
    if fault == "stopped":
        private_redis.stop()
    else:
        os.kill(private_redis.proc.pid, signal.SIGSTOP)  # alive, but never answers: each command waits its timeout
    client = app.test_client()
    for url, digits in ((code_step, code), (WEBHOOK, None), (number_step, "02160800000"), (code_step, code)):
        started = time.monotonic()
        _unavailable(twiml(post(client, url, digits=digits)), started)
    started = time.monotonic()
    root = twiml(post(client, code_step.replace("lang=zh", "lang=en"), digits=code))
    assert time.monotonic() - started < 2 and "We cannot check right now. Do not trust the caller." in words(root)
    ends_the_call(root)


# --- the spoken forms ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shown, lang, said", [
    ("021 6080 0000", "zh", CALLER_ZH), ("021 6080 0000", "en", CALLER_EN),
    ("400-000-9518", "zh", "四 零 零，零 零 零，九 五 幺 八"), ("+852 2160 800000", "en", "plus 8 5 2, 2 1 6 0, 8 0 0 0 0 0"),
    ("A17", "zh", "A 幺 七"), ("cc.7_x", "en", "c c dot 7 underscore x"),
])
def test_numbers_and_agent_ids_are_said_one_character_at_a_time(shown, lang, said):
    assert advice.spoken(shown, lang) == said


@pytest.mark.parametrize("hours, zh, en", [
    ("09:00-21:00", "每天9点到21点", "every day from 9 am to 9 pm"),
    ("00:00-12:30", "每天0点到12点30分", "every day from 12 am to 12:30 pm"),
])
def test_hours_are_said(hours, zh, en):
    assert advice.spoken_hours(hours, "zh") == zh and advice.spoken_hours(hours, "en") == en


# --- voice simulate ----------------------------------------------------------------------------------------------------------------
def test_voice_simulate_prints_each_signed_step_of_a_call(voice_app):
    created, _ = open_session(voice_app)
    result = voice_app.test_cli_runner().invoke(args=["voice", "simulate", "--from", BORROWER, "1", created["code"]])
    assert result.exit_code == 0, result.output
    assert result.output.count("--- POST http://localhost/voice/inbound") == 3
    assert "HTTP 403" not in result.output and result.output.count("HTTP 200") == 3
    assert "Digits=1" in result.output and "step=code&lang=zh&try=0" in result.output
    assert "核验通过" in result.output and CALLER_ZH in result.output and "<Hangup />" in result.output


def test_voice_simulate_in_english_with_a_public_url(make_app):
    app = make_app(TWILIO_AUTH_TOKEN="local", VERIFY_PUBLIC_URL="https://verify.example.com")
    result = app.test_cli_runner().invoke(args=["voice", "simulate", "--from", BORROWER, "9", "2", "13912345678"])
    assert result.exit_code == 0, result.output
    assert result.output.count("HTTP 200") == 4 and "https://verify.example.com/voice/inbound?step=number" in result.output
    assert "not an official OK Wallet number" in result.output


def test_voice_simulate_needs_a_token(runner):
    result = runner.invoke(args=["voice", "simulate", "--from", BORROWER, "1"])
    assert result.exit_code != 0 and "TWILIO_AUTH_TOKEN" in result.output
