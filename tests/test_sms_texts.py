"""Every SMS reply fits one message: 70 UCS-2 characters in Chinese, 160 GSM-7 characters in English,
counted by ``verify.segments`` (tests/test_sms_segments.py renders them through the service). And the
pure reading of what a borrower texts."""

import pytest

from verify import segments
from verify.services import advice
from verify.services import texts as sms

BRAND = {"brand": "OK钱包", "brand_en": "OK Wallet", "hotline": "400-000-9518", "sms": "10690009518"}
# The longest values the service lets through: agent ids are at most 12 characters (API limit), a
# masked name is one character and two stars, numbers display at most like +852 2160 800000 (a
# foreign calling number is shown in international form), a day and time like 12月28日 23:59.
LONGEST = {
    "agent_id": "CC-2026-0042",
    "agent": " 欧**",
    "caller": "+852 2160 800000",
    "time": "23:59",
    "when": "12月28日 23:59",
    "days": 90,
    "number": "+852 2160 800000",
    "imitated": "0755 1234 5678",
    "reference": "R261130-7KQ2MD",
    "minutes": 60,
    "codes": "0755、0771、0898、…",
    "hours": 168,  # VERIFY_CALLBACK_TTL at its longest, 7 days
}

# Digits typed without an area code are 7 or 8 digits, in at most 5 groups as typed.
AREA_CODE = {"area_code": {"number": "60 80 00 00"}}


def gsm7_septets(text):
    """Septets of an English reply, which must be GSM-7 (``verify.segments``, the service's own counter)."""
    counted = segments.count(text)
    assert counted.encoding == "GSM-7", [ch for ch in text if not segments.is_gsm7(ch)]
    return counted.units


@pytest.mark.parametrize("kind", sorted(advice.SMS))
def test_chinese_reply_fits_one_sms(kind):
    reply = advice.sms(kind, "zh", BRAND, **{**LONGEST, **AREA_CODE.get(kind, {})})
    assert segments.count(reply).count == 1, f"{kind}: {segments.count(reply)}: {reply}"
    _nothing_cut(kind, "zh", reply, {**LONGEST, **AREA_CODE.get(kind, {})})


@pytest.mark.parametrize("kind", sorted(advice.SMS))
def test_english_reply_fits_one_gsm7_sms(kind):
    # The README sizes replies for a brand of up to 10 Latin characters.
    values = {**LONGEST, "agent": " W**", "when": "12-28 23:59", "codes": "0755 or 0771 or 0898 or ...",
              **AREA_CODE.get(kind, {})}
    reply = advice.sms(kind, "en", {**BRAND, "brand_en": "LendWallet"}, **values)
    assert gsm7_septets(reply) <= 160, f"{kind}: {gsm7_septets(reply)} septets: {reply}"
    _nothing_cut(kind, "en", reply, values)


def _nothing_cut(kind, lang, reply, values):
    # advice.sms cuts a value that would not fit; the longest realistic values must fit whole.
    assert all(str(value) in reply for name, value in values.items() if "{" + name + "}" in advice.SMS[kind][lang]), reply


WARNINGS = {"wrong_code", "not_calling", "not_calling_last", "not_calling_none", "locked", "unavailable",
            "number_inbound_only", "number_retired",
            "number_lookalike", "number_known_scam", "number_reported", "number_unknown", "number_unavailable"}


@pytest.mark.parametrize("kind", sorted(WARNINGS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_warning_says_hang_up_and_call_the_hotline(kind, lang):
    reply = advice.sms(kind, lang, BRAND, **LONGEST)
    assert "400-000-9518" in reply
    assert ("挂断" in reply) if lang == "zh" else ("Hang up" in reply)


# The usage hints: what to send, and what to do if someone is on the phone now.
HINTS = {"help", "usage", "bad_number", "report_usage", "area_code"}


@pytest.mark.parametrize("kind", sorted(HINTS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_and_usage_hints_say_hang_up_and_call_the_hotline(kind, lang):
    reply = advice.sms(kind, lang, BRAND, **LONGEST)
    assert "400-000-9518" in reply
    assert ("挂断" in reply and "自己拨打" in reply) if lang == "zh" else ("Hang up and call" in reply and "yourself" in reply)


@pytest.mark.parametrize("lang, word", [("zh", "“回电”"), ("en", "CALLBACK")])
def test_help_names_the_callback_request_in_one_sms(lang, word):
    reply = advice.sms("help", lang, BRAND, **LONGEST)
    assert word in reply and segments.count(reply).count == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_hint_shows_how_to_report_not_how_to_check(lang):
    reply = advice.sms("report_usage", lang, BRAND, **LONGEST)
    assert ("举报 " in reply and "查 " not in reply) if lang == "zh" else ("REPORT " in reply and "CHECK" not in reply)


def _english_texts():
    tables = [advice.SMS, advice.NUMBER, advice.CALL, advice.VOICE, {"never": advice.NEVER, "hang_up": advice.HANG_UP,
                                                                     "impersonated": advice.IMPERSONATED}]
    return [texts["en"] for table in tables for texts in table.values() if "en" in texts]


def test_no_english_text_puts_a_or_an_before_the_brand():
    """The English brand is configurable ("OK Wallet", "LendWallet"): "a OK Wallet number" reads wrong and
    "an" would for another brand, so no text lets an article stand right before it."""
    import re

    wrong = [text for text in _english_texts() if re.search(r"\b[Aa]n? \{brand_en\}", text)]
    assert wrong == []


@pytest.mark.parametrize("kind", sorted(set(advice.SMS) - {"genuine"}))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_only_the_genuine_reply_says_verified(kind, lang):
    """Call status (calling_now) and every other reply never uses the words of a verified call."""
    reply = advice.sms(kind, lang, BRAND, **LONGEST)
    assert "核验通过" not in reply and "Verified" not in reply and "verified" not in reply.replace("to verify", "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_calling_now_asks_for_the_code_or_to_hang_up(lang):
    # The service leaves a name outside GSM-7 out of English replies (tests/test_sms_segments.py).
    reply = advice.sms("calling_now", lang, BRAND, **{**LONGEST, **({"agent": " W**"} if lang == "en" else {})})
    assert all(value in reply for value in ("CC-2026-0042", "+852 2160 800000", "23:59"))
    assert ("核验码" in reply and "挂断" in reply) if lang == "zh" else ("code" in reply and "hang up" in reply)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_genuine_reminds_never_to_share_codes_or_move_money(lang):
    reply = advice.sms("genuine", lang, BRAND, **LONGEST)
    assert ("验证码" in reply and "转账" in reply) if lang == "zh" else ("codes" in reply and "money" in reply)


@pytest.mark.parametrize(
    "body, kind, lang, extra",
    [
        ("482193", "code", "zh", {"code": "482193"}),
        ("验证 482193", "code", "zh", {"code": "482193"}),
        ("code 482193", "code", "en", {"code": "482193"}),
        ("４８２１９３", "code", "zh", {"code": "482193"}),
        ("482 193", "code", "zh", {"code": "482193"}),
        ("?", "status", "zh", {}),
        ("？", "status", "zh", {}),
        ("核实", "status", "zh", {}),
        ("call", "status", "en", {}),
        ("查 021-6080-0000", "check", "zh", {"number": "021-6080-0000"}),
        ("查021 6080 0000", "check", "zh", {"number": "021 6080 0000"}),
        ("ＣＨＥＣＫ　95188", "check", "en", {"number": "95188"}),
        ("checkout 95188", "unknown", "en", {}),
        ("举报 021 9999 8888 冒充客服", "report", "zh", {"number": "021 9999 8888", "text": "冒充客服"}),
        ("REPORT +86 21 9999 8888 wanted money", "report", "en", {"number": "+86 21 9999 8888", "text": "wanted money"}),
        ("report 95188", "report", "en", {"number": "95188", "text": ""}),
        ("举报 021-9999-8888，要验证码！", "report", "zh", {"number": "021-9999-8888", "text": "要验证码！"}),
        ("举报　０２１　９９９９　８８８８：“安全账户”？", "report", "zh", {"number": "021 9999 8888", "text": "“安全账户”？"}),
        ("STOP", "opt_out", "en", {}),
        ("stop please", "unknown", "en", {}),
        ("start", "opt_in", "en", {}),
        ("帮助", "help", "zh", {}),
        ("13800138000", "unknown", "zh", {}),
        ("", "unknown", "zh", {}),
    ],
)
def test_parse(body, kind, lang, extra):
    command = sms.parse(body)
    assert (command.kind, command.lang) == (kind, lang)
    for field, value in extra.items():
        assert getattr(command, field) == value


def test_default_language_for_bare_codes_is_configurable():
    assert sms.parse("482193", default_lang="en").lang == "en"


@pytest.mark.parametrize("words, categories", [
    ("对方要我的验证码", ["sms_code"]),
    ("问我银行卡号和密码", ["card_password"]),
    ("让我把钱转账到安全账户", ["transfer"]),
    ("叫我下载APP开屏幕共享", ["screen_share"]),
    ("说我的校园贷要注销，不然影响征信", ["cancel_account"]),
    ("威胁要爆我通讯录", ["threats"]),
    ("自称公安局民警，说我涉嫌洗钱", ["police_court"]),
    ("asked for the CODE they sent me", ["sms_code"]),
    ("wanted my PIN and card number", ["card_password"]),
    ("told me to transfer money to a safe account", ["transfer"]),
    ("made me install AnyDesk and share my screen", ["screen_share"]),
    ("said to cancel my loan account or my credit score drops", ["cancel_account"]),
    ("said the police had a warrant", ["police_court"]),
    ("冒充客服", ["other"]),
    ("barcode decoder", ["other"]),  # whole words only in English
    ("", []),
])
def test_categories_in_a_reports_words(words, categories):
    from verify.services.reports import categories_in

    assert categories_in(words) == categories
