"""Every reply the SMS service can send is one message (issue 15 item 11), counted by a real segment
counter (``verify.segments``: GSM 03.38 septets with the extension table, else UTF-16 code units),
over the worst inputs the service lets through: the longest agent id and display name, the longest
purpose, a foreign calling number, non-GSM characters, the longest numbers a person can type."""

import time

import pytest

from tests.conftest import registry_of
from tests.redis_process import RedisProcess
from tests.test_sms import SID, TOKEN, open_session, text
from tests.twilio_standin import TwilioStandIn
from verify import segments
from verify.services import advice, demo
from verify.services.actor import CLI

FOREIGN = "+44 20 7946 0958"  # a foreign official calling line, shown in international form
AGENT_ID = "CC-2026-0042"  # 12 characters: the API's limit
# 32 characters each (the limit): Chinese, Latin, a first character outside GSM-7 (Ł, `), one outside
# the Basic Multilingual Plane (two UTF-16 units when masked as "𠮷**").
NAMES = ["欧阳" + "娜" * 30, "Wolfeschlegelsteinhausenbergerdo", "Łukasz Żółkiewski-Brzęczyszczyki",
         "`backtick" + "x" * 23, "𠮷野家" + "子" * 29]
PURPOSE = ("贷后回访“确认用款”：€100 [test] {x} ~ | 😀 " * 4)[:120]
# The longest numbers phonenumbers reads (typed as grouped as allowed), a lookalike and one that is none.
LONG_LOOKALIKE = "+86 2160 8000 0012 3456 7"
LONG_UNKNOWN = "0086110010016386422834663"
LONG_REPORTED = "0086 1794 487843057061 4 432"
LONG_SCAM = "+861177687540477537266809"


def _count(reply):
    return segments.count(reply)


def _app(make_app, lang, standin=None, register=True, **extra):
    settings = {"TWILIO_AUTH_TOKEN": TOKEN, "VERIFY_SMS_LANGUAGE": lang, "VERIFY_SMS_RATE_LIMIT": 1000,
                "VERIFY_BRAND_EN": "LendWallet", **extra}
    if standin is not None:
        settings.update(TWILIO_ACCOUNT_SID=SID, VERIFY_TWILIO_API_BASE=standin.url)
    app = make_app(**settings)
    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    for number, labels in () if not register else ((FOREIGN, {"zh": "伦敦回访", "en": "London callback"}),
                           ("010-6080-0000", {"zh": "北京回访", "en": "Beijing callback"})):
        svc.numbers.add(CLI, {"number": number, "labels": labels, "purpose": "callback", "direction": "outbound"})
    return app


WORDS = {
    "zh": {"callback": "回电", "status": "核实", "code": "{}", "check": "查 {}", "report": "举报 {}", "help": "帮助", "other": "你好😀",
           "what": " 要验证码😀“转账”€"},
    "en": {"callback": "CALLBACK", "status": "CALL", "code": "code {}", "check": "CHECK {}", "report": "REPORT {}", "help": "HELP",
           "other": "hello ☺", "what": " asked for my code ☺ “transfer” €"},
}


def _calls(app, client, lang, name, replies, standin):
    """A borrower's whole journey with one session from the foreign line: notice, status, codes, end."""
    say, borrower = WORDS[lang], "+8613800138000"
    replies["not_calling_none"] = text(client, say["status"], sender=borrower)[1]
    replies["not_calling"] = text(client, say["code"].format("123456"), sender=borrower)[1]
    replies["not_calling (fixed line)"] = text(client, say["code"].format("123456"), sender="+862160809999")[1]
    created, headers = open_session(app, borrower, caller=FOREIGN, agent_id=AGENT_ID, agent_name=name,
                                    purpose=PURPOSE, notify=True, ttl_seconds=3600)
    for _ in range(200):
        if standin.sent:
            break
        time.sleep(0.02)
    replies["notice"] = standin.sent[0]["Body"]
    replies["calling_now"] = text(client, say["status"], sender=borrower)[1]
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    replies["wrong_code"] = text(client, say["code"].format(wrong), sender=borrower)[1]
    replies["genuine"] = text(client, say["code"].format(created["code"]), sender=borrower)[1]
    assert app.test_client().delete(f"/api/v1/sessions/{created['id']}", headers=headers).status_code == 204
    replies["not_calling_last"] = text(client, say["status"], sender=borrower)[1]
    other = "+8613900139000"
    created, _ = open_session(app, other, caller=FOREIGN, agent_id=AGENT_ID, agent_name=name, purpose=PURPOSE)
    for _ in range(app.extensions["verify"].settings.max_failures):
        text(client, say["code"].format(wrong if wrong != created["code"] else "000000"), sender=other)
    replies["locked"] = text(client, say["code"].format(created["code"]), sender=other)[1]
    replies["locked (status)"] = text(client, say["status"], sender=other)[1]


def _numbers(app, client, lang, replies):
    say = WORDS[lang]
    reports = registry_of(app)
    reports.store.redis.sadd(reports.known_scam_key(), app.extensions["verify"].checks.read({"number": LONG_SCAM}).e164)
    reported = app.extensions["verify"].checks.read({"number": LONG_REPORTED}).e164
    for reporter in "abc":
        reports.store.redis.zadd(reports.reporters_key(reported), {reporter: time.time()})
    for kind, number in (("number_official", FOREIGN), ("number_official (local digits)", "6080 0099"),
                         ("number_retired (local digits)", "6080 1111"), ("number_inbound_only", "400-000-9518"),
                         ("number_lookalike", LONG_LOOKALIKE), ("number_unknown", LONG_UNKNOWN),
                         ("number_known_scam", LONG_SCAM), ("number_reported", LONG_REPORTED),
                         ("area_code", "60 80 00 00"), ("bad_number", "abc")):
        replies[kind] = text(client, say["check"].format(number))[1]
    replies["reported"] = text(client, say["report"].format(LONG_UNKNOWN + say["what"]))[1]
    replies["report_usage"] = text(client, say["report"].format(""))[1]
    replies["help"] = text(client, say["help"])[1]
    replies["usage"] = text(client, say["other"])[1]


def _callbacks(make_app, client, lang, replies):
    """Callback requests: asked (with the longest time, non-GSM characters in it), asked again, from a
    fixed line, and past the day's limit."""
    word = WORDS[lang]["callback"]
    replies["callback_asked"] = text(client, word, sender="+8613600136000")[1]
    replies["callback_already"] = text(client, word, sender="+8613600136000")[1]
    when = "今晚7点到9点😀“方便时”" if lang == "zh" else "after 7pm ☺ “please” €"
    replies["callback_asked_time"] = text(client, f"{word} {when}", sender="+8613600136001")[1]
    replies["callback_mobile"] = text(client, word, sender="+862160809999")[1]
    limited = _app(make_app, lang, register=False, VERIFY_CALLBACK_DAILY_LIMIT=1).test_client()
    text(limited, word, sender="+8613600136002")
    replies["callback_limited"] = text(limited, word, sender="+8613600136003")[1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reply_is_one_sms_over_the_worst_inputs(make_app, lang, name):
    standin = TwilioStandIn()
    try:
        app = _app(make_app, lang, standin)
        client, replies = app.test_client(), {}
        _calls(app, client, lang, name, replies, standin)
        _numbers(app, client, lang, replies)
        _callbacks(make_app, client, lang, replies)
    finally:
        standin.close()
    limited = _app(make_app, lang, register=False, VERIFY_SMS_RATE_LIMIT=1)
    text(limited.test_client(), WORDS[lang]["help"], sender="+8613700137000")
    replies["slow_down"] = text(limited.test_client(), WORDS[lang]["help"], sender="+8613700137000")[1]
    assert {kind.split(" ")[0] for kind in replies} >= set(advice.SMS) - {"unavailable", "number_unavailable"}
    assert [kind for kind, reply in replies.items() if not reply] == []
    too_long = {kind: (_count(reply), reply) for kind, reply in replies.items() if _count(reply).count != 1}
    assert too_long == {}
    for kind in ("genuine", "calling_now"):
        assert AGENT_ID in replies[kind] and FOREIGN in replies[kind], replies[kind]
    assert FOREIGN in replies["notice"] and FOREIGN in replies["not_calling_last"]
    if lang == "en":  # English replies stay GSM-7: a name outside it is left out, never sent as UCS-2
        assert {kind: _count(reply).encoding for kind, reply in replies.items()} == dict.fromkeys(replies, "GSM-7")
    assert "021 6080 0099" in replies["number_official (local digits)"]
    assert "+44 20 7946 0958" in replies["number_official"] and "021 6080 0000" in replies["number_lookalike"]
    assert PURPOSE[:4] not in replies["genuine"]  # the purpose is not texted at all
    assert FOREIGN in replies["callback_asked"] and "😀" not in replies["callback_asked_time"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_unavailable_replies_are_one_sms(make_app, tmp_path, lang):
    private = RedisProcess(tmp_path / "segments-redis").start()
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, REDIS_URL=private.url, VERIFY_SMS_LANGUAGE=lang, VERIFY_BRAND_EN="LendWallet")
    private.stop()
    say, client = WORDS[lang], app.test_client()
    replies = {"unavailable": text(client, say["code"].format("123456"))[1],
               "number_unavailable": text(client, say["check"].format(LONG_UNKNOWN))[1]}
    assert all(_count(reply).count == 1 for reply in replies.values()), replies
    assert "400-000-9518" in replies["unavailable"] and "400-000-9518" in replies["number_unavailable"]


@pytest.mark.parametrize("value, expected", [
    ("a" * 160, ("GSM-7", 160, 1)), ("a" * 161, ("GSM-7", 161, 2)), ("a" * 306, ("GSM-7", 306, 2)),
    ("a" * 307, ("GSM-7", 307, 3)), ("€" * 80, ("GSM-7", 160, 1)), ("€" * 81, ("GSM-7", 162, 2)),
    ("a" * 152 + "€" + "a" * 153, ("GSM-7", 307, 3)),  # the escape pair is not split between parts
    ("中" * 70, ("UCS-2", 70, 1)), ("中" * 71, ("UCS-2", 71, 2)), ("😀" * 35, ("UCS-2", 70, 1)),
    ("😀" * 36, ("UCS-2", 72, 2)), ("a" * 159 + "`", ("UCS-2", 160, 3)), ("", ("GSM-7", 0, 1)),
    ("Ça coûte 5 £, è é ù ì ò Ø Å Δ Φ ß É ¡ ¿ § äöñüà", ("UCS-2", 47, 1)),  # û is not GSM-7
    ("Ça coute 5 £, è é ù ì ò Ø Å Δ Φ ß É ¡ ¿ § äöñüà", ("GSM-7", 47, 1)),
])
def test_the_segment_counter(value, expected):
    counted = segments.count(value)
    assert (counted.encoding, counted.units, counted.count) == expected
    assert segments.fits_one(value) == (counted.count == 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_outlandish_value_is_cut_in_the_middle_to_keep_one_sms(lang):
    brand = {"brand": "OK钱包", "brand_en": "OK Wallet", "hotline": "400-000-9518", "sms": "10690009518"}
    number = "0086 " + "1234 5678 " * 6
    reply = advice.sms("number_lookalike", lang, brand, number=number, imitated="021 6080 0000")
    assert segments.count(reply).count == 1
    assert reply.startswith("0086 12") and ("…" if lang == "zh" else "...") in reply and "021 6080 0000" in reply
