"""What verify tells a borrower, in Chinese and English: the one place for advice texts.

Each verdict has a text per language; ``{brand}``, ``{hotline}``, ``{sms}`` and ``{imitated}`` are
filled from configuration and the facts. The API returns both languages; the SMS and web channels
pick one.
"""

import functools
import re

from verify import segments
from verify import verdicts as v

# Said with every warning: the rules that unmask most scams.
NEVER = {
    "zh": "{brand}绝不会索要短信验证码、密码或银行卡信息，绝不会让您转账到“安全账户”。",
    "en": "{brand_en} never asks for SMS codes, passwords or card details, and never asks you to move money.",
}

# Added to the check of one of our own numbers that people reported lately: it is being spoofed.
IMPERSONATED = {
    "zh": "近期有骗子冒充这个号码行骗。",
    "en": "Scammers have recently impersonated this number.",
}

HANG_UP = {
    "zh": "请挂断电话，自己拨打官方客服热线 {hotline} 核实。",
    "en": "Hang up and call the official hotline {hotline} yourself.",
}

NUMBER = {
    v.OFFICIAL: {
        "zh": "这是{brand}的官方号码，但来电显示可以伪造。请让客服报出核验码，发送到 {sms} 或在本网站输入核对；"
        "也可以挂断后自己拨打 {hotline}。",
        "en": "This is an official {brand_en} number, but caller ID can be faked. Ask the caller for the "
        "verification code and text it to {sms} or enter it on this site, or hang up and call {hotline} yourself.",
    },
    v.INBOUND_ONLY: {
        "zh": "这是{brand}的客服热线，只接听、从不外呼。显示这个号码的来电一定是伪造的。",
        "en": "This is {brand_en}'s hotline: it only takes calls and never calls out. A call showing this "
        "number is fake.",
    },
    v.RETIRED: {
        "zh": "这个号码{brand}已停用，不会再用它联系您。",
        "en": "{brand_en} no longer uses this number and will not call you from it.",
    },
    v.LOOKALIKE: {
        "zh": "这个号码冒充{brand}的官方号码 {imitated}，不是我们的号码，很可能是诈骗。",
        "en": "This number imitates {brand_en}'s official number {imitated}. It is not ours and is very "
        "likely a scam.",
    },
    v.KNOWN_SCAM: {
        "zh": "这个号码已被确认为诈骗号码。不要提供任何信息，不要转账。",
        "en": "This number is a confirmed scam number. Give no information and send no money.",
    },
    v.REPORTED: {
        "zh": "多位用户举报过这个号码，它不是{brand}的号码。",
        "en": "Several people have reported this number. It is not an official {brand_en} number.",
    },
    v.UNKNOWN: {
        "zh": "这不是{brand}的官方号码。自称{brand}的来电，请不要相信。",
        "en": "This is not an official {brand_en} number. Do not trust a caller who says they are {brand_en}.",
    },
    v.UNAVAILABLE: {
        "zh": "暂时无法核实。",
        "en": "We cannot check right now.",
    },
}

CALL = {
    v.GENUINE: {
        "zh": "核验通过：{brand}正在给您回访。通话中仍不要透露验证码、密码，不要转账。",
        "en": "Verified: {brand_en} is calling you. Even so, never share codes or passwords or move money "
        "during the call.",
    },
    v.NOT_VERIFIED: {
        "zh": "无法核实这通电话：核验码不对、已过期，或{brand}此刻没有给您打电话。",
        "en": "We could not verify this call: the code is wrong or expired, or {brand_en} is not calling "
        "you now.",
    },
    v.NOT_CALLING: {
        "zh": "{brand}现在没有给您打电话。",
        "en": "{brand_en} is not calling you now.",
    },
    # Said where anyone can type a code for any phone (web, API): the borrower's own phone still works.
    v.LOCKED: {
        "zh": "这个号码输错核验码的次数太多，这里的核验已暂停。请用您本人的手机把核验码发送到 {sms}。",
        "en": "Too many wrong codes were typed for this phone, so checking here is paused. Text the code "
        "from your own phone to {sms}.",
    },
    v.UNAVAILABLE: {
        "zh": "暂时无法核实。",
        "en": "We cannot check right now.",
    },
}

# The headline of each verdict page: what the verdict is, then what to do, shown as "what — do".
# The action is in the headline itself, never only in the paragraph below it.
HEADLINE = {
    v.OFFICIAL: {"zh": ("这是官方号码，但来电显示可以伪造", "请对方报出核验码再继续"),
                 "en": ("Official number, but caller ID can be faked", "ask for the code before you go on")},
    # An official number that scammers spoofed lately: the warning is the headline.
    "impersonated": {"zh": ("注意：近期有骗子冒充这个官方号码", "请对方报出核验码，否则挂断"),
                     "en": ("Warning: scammers have been faking this official number", "ask for the code or hang up")},
    v.INBOUND_ONLY: {"zh": ("假冒来电：我们从不用这个号码外呼", "请挂断"),
                     "en": ("Fake call: we never call from this number", "hang up")},
    v.RETIRED: {"zh": ("这个号码我们已停用", "请挂断"), "en": ("We no longer use this number", "hang up")},
    v.LOOKALIKE: {"zh": ("假冒：这个号码在模仿我们的号码", "请挂断"),
                  "en": ("Fake: this number imitates one of ours", "hang up")},
    v.KNOWN_SCAM: {"zh": ("已确认的诈骗号码", "请挂断，不要转账"), "en": ("Confirmed scam number", "hang up, send no money")},
    v.REPORTED: {"zh": ("已被多人举报", "请挂断"), "en": ("Reported by several people", "hang up")},
    v.UNKNOWN: {"zh": ("不是我们的号码", "请挂断"), "en": ("Not our number", "hang up")},
    v.UNAVAILABLE: {"zh": ("暂时无法核实", "请挂断，自己拨打官方热线"),
                    "en": ("We cannot check right now", "hang up and call our hotline yourself")},
    v.GENUINE: {"zh": ("核验通过：这通电话确实是我们打的", "可以继续通话，但不要透露验证码"),
                "en": ("Verified: this call is really from us", "go on, but never share codes")},
    v.NOT_VERIFIED: {"zh": ("未通过核验", "请挂断"), "en": ("Not verified", "hang up")},
    v.LOCKED: {"zh": ("核验码错误次数过多", "请挂断"), "en": ("Too many wrong codes", "hang up")},
}


def headline(verdict, lang, impersonated=False):
    """The verdict page's headline in ``lang``: ``(what it is, what to do)``."""
    return HEADLINE["impersonated" if impersonated and verdict == v.OFFICIAL else verdict][lang]


# Verdicts after which the borrower should hang up and call the hotline themselves.
_WARN = {v.INBOUND_ONLY, v.RETIRED, v.LOOKALIKE, v.KNOWN_SCAM, v.REPORTED, v.UNKNOWN, v.UNAVAILABLE,
         v.NOT_VERIFIED, v.NOT_CALLING, v.LOCKED}


@functools.lru_cache(maxsize=1024)
def _render(kind, verdict, brand_items, imitated="", impersonated=False):
    # The same few texts are asked for over and over: each is rendered once. Callers only read
    # the dict they get, so sharing it is safe.
    table = NUMBER if kind == "number" else CALL
    brand = dict(brand_items)
    texts = {}
    for lang in ("zh", "en"):
        parts = [table[verdict][lang]]
        if impersonated:
            parts.append(IMPERSONATED[lang])
        if verdict in _WARN:
            parts.append(HANG_UP[lang])
        if verdict != v.GENUINE:
            parts.append(NEVER[lang])
        sep = "" if lang == "zh" else " "
        texts[lang] = sep.join(parts).format(**brand, imitated=imitated)
    return texts


def for_number(verdict, brand, imitated=None, impersonated=False):
    """Advice for a number check: ``{"zh": ..., "en": ...}``. ``brand`` holds brand, brand_en, hotline, sms;
    ``impersonated`` adds the warning that scammers spoofed this (official) number lately."""
    return _render("number", verdict, tuple(brand.items()), imitated or "", impersonated)


def for_call(verdict, brand):
    """Advice for a call verification: ``{"zh": ..., "en": ...}``."""
    return _render("call", verdict, tuple(brand.items()))


# --- SMS replies ------------------------------------------------------------------------------------
# One SMS each: at most 70 characters in Chinese (UCS-2), 160 GSM-7 characters in English (so no
# curly quotes or other characters outside GSM-7). tests/test_sms_texts.py renders every one with the
# longest realistic values and counts. Every reply but `genuine` and `calling_now` says to hang up and
# call the hotline (`calling_now` says to hang up when the caller has no code: it is no verification).
SMS = {
    "genuine": {
        # Sized for a 12-character agent id and a foreign calling number (+852 2160 800000).
        "zh": "核验通过：{brand}正在回访您。工号{agent_id}{agent}，{caller}，{time}起。勿透露验证码，勿转账。",
        # {agent} is " 王**" in Chinese; in English only a Latin name fits GSM-7, else it is left out.
        "en": "Verified: {brand_en} is calling you. Agent {agent_id}{agent}, from {caller}, started {time}. "
        "Still never share codes or move money.",
    },
    "wrong_code": {
        "zh": "核验码与我们正在拨打的电话不符，请挂断，自己拨打{hotline}核实。我们不会索要验证码或让您转账。",
        "en": "That code does not match the call we are making. Hang up and call {hotline} yourself. "
        "We never ask for codes or money.",
    },
    "not_calling": {
        "zh": "{brand}现在没有给您打电话。请挂断，自己拨打{hotline}核实。我们不会索要验证码或让您转账。",
        "en": "{brand_en} is not calling you now. Hang up and call {hotline} yourself. We never ask for codes "
        "or money.",
    },
    # Call status (核实 / ? / CALL ...), never verification: a scammer may call at the same moment as our
    # agent, so these never say "verified" and send the borrower back to the code.
    "calling_now": {
        "zh": "{brand}正在致电您：工号{agent_id}{agent}，{caller}，{time}起。请对方报核验码发本号，否则挂断。",
        "en": "{brand_en} has an agent calling you now: agent {agent_id}{agent}, from {caller}, since {time}. "
        "Ask the caller for the code and text it here, or hang up.",
    },
    # {when}: the last-contact record's time, local: 11月28日 14:05 / 11-28 14:05.
    "not_calling_last": {
        "zh": "{brand}现在没有给您打电话，请挂断，自己拨打{hotline}。上次回访：{when}，{caller}。",
        "en": "{brand_en} is not calling you now. Hang up and call {hotline} yourself. Last call from us: {when} "
        "from {caller}.",
    },
    "not_calling_none": {
        "zh": "{brand}现在没有给您打电话，近{days}天也没有给您来电。请挂断，自己拨打{hotline}核实。我们不会索要验证码。",
        "en": "{brand_en} is not calling you now and has not called you in {days} days. Hang up and call {hotline} "
        "yourself. We never ask for codes or money.",
    },
    "locked": {
        "zh": "核验码错误次数过多，已暂停核验。请挂断，自己拨打{hotline}。我们不会索要验证码或让您转账。",
        "en": "Too many wrong codes: checking is paused. Hang up and call {hotline} yourself. We never ask for "
        "codes or money.",
    },
    "unavailable": {
        "zh": "暂时无法核实。请挂断，自己拨打{hotline}核实。我们不会索要验证码或让您转账。",
        "en": "We cannot check right now. Hang up and call {hotline} yourself. We never ask for codes or money.",
    },
    "number_official": {
        "zh": "{number}是{brand}官方号码，但来电显示可伪造：请对方报核验码并发到本号。不确定就挂断打{hotline}。",
        "en": "{number} is an official {brand_en} number, but caller ID can be faked: ask for the code and text "
        "it here, or hang up and call {hotline}.",
    },
    "number_inbound_only": {
        "zh": "{number}是{brand}客服热线，从不外呼，显示它的来电是假的。请挂断，自己拨打{hotline}。",
        "en": "{number} is our hotline and never calls out: a call showing it is fake. Hang up and call {hotline} "
        "yourself.",
    },
    "number_retired": {
        "zh": "{number}是{brand}已停用的号码，不会再用它来电。请挂断，自己拨打{hotline}。",
        "en": "{brand_en} no longer uses {number}. Hang up and call {hotline} yourself. We never ask for codes "
        "or money.",
    },
    "number_lookalike": {
        "zh": "{number}冒充{brand}号码{imitated}，很可能是诈骗。请挂断，自己拨打{hotline}。",
        "en": "{number} imitates our number {imitated}: likely a scam. Hang up and call {hotline} yourself. "
        "We never ask for codes or money.",
    },
    "number_known_scam": {
        "zh": "{number}已被确认为诈骗号码。请挂断，勿转账，自己拨打{hotline}核实。",
        "en": "{number} is a confirmed scam number. Hang up, send no money, and call {hotline} yourself.",
    },
    "number_reported": {
        "zh": "{number}被多人举报，不是{brand}号码。请挂断，自己拨打{hotline}核实。",
        "en": "{number} has been reported by several people and is not ours. Hang up and call {hotline} "
        "yourself.",
    },
    "number_unknown": {
        "zh": "{number}不是{brand}官方号码。请挂断，自己拨打{hotline}核实。我们不会索要验证码。",
        "en": "{number} is not an official {brand_en} number. Hang up and call {hotline} yourself. We never ask "
        "for codes or money.",
    },
    "number_unavailable": {
        "zh": "暂时无法查询。请挂断，自己拨打{hotline}核实。我们不会索要验证码或让您转账。",
        "en": "We cannot check right now. Hang up and call {hotline} yourself. We never ask for codes or money.",
    },
    # Usage hints: each also says what to do if someone is on the phone now (as every warning does).
    "bad_number": {
        "zh": "没看懂这个号码。请发“查 号码”，例如：查 02160800000。有疑问请挂断，自己拨打{hotline}核实。",
        "en": "We could not read that number. Send CHECK and the number, e.g. CHECK 02160800000. Unsure? Hang up "
        "and call {hotline} yourself.",
    },
    # Digits typed without an area code that are the digits of several of our lines within their cities.
    "area_code": {
        "zh": "{number}缺区号，可能是{codes}的号码。请加区号再查。有疑问请挂断，自己拨打{hotline}。",
        "en": "{number} could be our line in area {codes}: add the area code and check again. Unsure? Hang up "
        "and call {hotline} yourself.",
    },
    # 举报 / REPORT without a number it can read.
    "report_usage": {
        "zh": "请发“举报 号码 经过”，例如：举报 02199998888 要验证码。有疑问请挂断，自己拨打{hotline}核实。",
        "en": "Send REPORT, the number and what happened, e.g. REPORT 02199998888 asked for my code. Unsure? "
        "Hang up and call {hotline} yourself.",
    },
    "reported": {
        "zh": "已收到举报，编号{reference}，谢谢。若已转账请立即报警(110)。我们不会索要验证码。",
        "en": "Report received, reference {reference}. Thank you. If you sent money, call the police (110) now.",
    },
    # Names 回电 / CALLBACK too; both are one SMS with a 12-character hotline (69 of 70 UCS-2 units,
    # 156 of 160 GSM-7 characters), so every word here is counted.
    "help": {
        "zh": "发客服报的6位核验码到本号核实来电；“查 号码”查号，“举报 号码”举报，“回电”约回电。有疑问请挂断，自己拨打{hotline}。",
        "en": "Text the caller's 6-digit code here to verify a call, CHECK or REPORT <number>, or CALLBACK for a "
        "call back. Unsure? Hang up and call {hotline} yourself.",
    },
    "usage": {
        "zh": "请发客服报给您的6位核验码，或“查 号码”、“举报 号码”，“帮助”看说明。有疑问请挂断，自己拨打{hotline}。",
        "en": "Send the 6-digit code the caller gave you, CHECK <number> or REPORT <number>. HELP for more. "
        "Unsure? Hang up and call {hotline} yourself.",
    },
    "notice": {
        "zh": "{brand}将在{minutes}分钟内用{caller}给您回访。客服会报给您6位核验码，发到本号即可核实。我们不会索要验证码或转账。",
        "en": "{brand_en} will call you within {minutes} min from {caller}. The agent will give you a 6-digit "
        "code: text it here to verify. We never ask for codes or money.",
    },
    # 回电 / CALLBACK: always for the sender's own number. {caller} is the callback line (or "our number"),
    # {hours} how long the request waits, {time} when it was made (HH:MM). The time the borrower wrote is
    # not echoed: it could be any script (an English reply would leave GSM-7) and any length.
    "callback_asked": {
        "zh": "已收到回电申请。{brand}将在{hours}小时内用{caller}给您回电，客服会报6位核验码，请发到本号核实。",
        "en": "Callback request received. {brand_en} will call you from {caller} within {hours} h. The agent will "
        "give you a 6-digit code: text it here to verify.",
    },
    "callback_asked_time": {
        "zh": "已收到回电申请。{brand}会尽量按您说的时间，{hours}小时内用{caller}回电，客服会报核验码，请发到本号。",
        "en": "Request received. {brand_en} will call you from {caller} within {hours} h, at your time if we can. "
        "The agent will give a 6-digit code: text it here.",
    },
    "callback_already": {
        "zh": "您已在{time}申请回电。{brand}将在{hours}小时内用{caller}回电，客服会报核验码，请发到本号核实。",
        "en": "You asked for a callback at {time}. {brand_en} will call you from {caller} within {hours} h. The "
        "agent will give a 6-digit code: text it here.",
    },
    "callback_limited": {
        "zh": "暂时无法受理更多回电申请。请自己拨打{hotline}。我们不会索要验证码或让您转账。",
        "en": "We cannot take more callback requests now. Call {hotline} yourself. We never ask for codes or money.",
    },
    "callback_mobile": {
        "zh": "请用您本人的手机发“回电”申请回电，或自己拨打{hotline}。我们不会索要验证码或让您转账。",
        "en": "Text CALLBACK from your own mobile to ask for a call back, or call {hotline} yourself.",
    },
    "slow_down": {
        "zh": "您发送得太频繁了，请稍后再试。紧急情况请拨打{hotline}。",
        "en": "Too many messages. Please try again later, or call {hotline}.",
    },
}


# Values a reply may shorten, in this order, when the whole would not go as one SMS: only outlandish
# input gets there (a 25-digit "number" texted to CHECK). Cut in the middle, so that the start and the
# end of a number stay: "…" in Chinese, "..." in English (GSM-7 has no ellipsis).
_SHORTENED = ("number", "imitated", "caller", "agent_id")
_KEPT = 8  # characters of a value always kept


def sms(kind, lang, brand, **values):
    """One SMS reply of ``kind`` in ``lang`` (zh or en), filled with the brand and ``values``: one
    message (``segments.fits_one``), the values of ``_SHORTENED`` cut where they would not fit."""
    reply = SMS[kind][lang].format(**brand, **values)
    return reply if segments.fits_one(reply) else _fitted(SMS[kind][lang], lang, brand, values, reply)


def _fitted(text, lang, brand, values, reply):
    mark = "…" if lang == "zh" else "..."
    for name in _SHORTENED:
        whole = str(values.get(name, ""))
        for keep in range(len(whole) - 1, _KEPT - 1, -1):
            values = {**values, name: whole[:keep - keep // 2] + mark + whole[len(whole) - keep // 2:]}
            reply = text.format(**brand, **values)
            if segments.fits_one(reply):
                return reply
    return reply  # a brand or hotline too long for one SMS: tests/test_sms_segments.py sizes the settings


# --- The voice hotline -------------------------------------------------------------------------------
# Said, not read: numbers and agent ids are filled in already spoken one character at a time
# (``spoken``), and the caller is on our own hotline, so a warning says to hang up the *other* call
# ("hang up and call the hotline yourself" would send them where they are). Every warning ends with
# NEVER, as the web and API advice does.
VOICE_HANG_UP = {"zh": "请挂断那通电话。", "en": "Hang up that call."}

VOICE = {
    "greeting": {"zh": "您好，这里是{brand}官方客服热线。", "en": "This is the official {brand_en} hotline."},
    "english": {"en": "For English, press 9."},
    "menu": {
        "zh": "有人自称{brand}给您打电话，要核实是不是真的，请按1。查询一个号码，请按2。需要我们回电，请按3。"
        "人工服务，请按0。",
        "en": "If someone says they are calling from {brand_en} and you want to check that it is true, press 1. "
        "To check a phone number, press 2. To ask us to call you back, press 3. To talk to a person, press 0.",
    },
    "ask_code": {"zh": "请输入来电的客服报给您的6位核验码。", "en": "Enter the 6-digit code the caller gave you."},
    "ask_number": {"zh": "请输入给您打电话的号码，以井号键结束。",
                   "en": "Key in the number that called you, then press the hash key."},
    "not_understood": {"zh": "对不起，没有收到有效的按键。", "en": "Sorry, we did not get a valid key."},
    "bad_code": {"zh": "对不起，核验码是6位数字。", "en": "Sorry, the code has 6 digits."},
    "bad_number": {"zh": "对不起，没有听懂这个号码。", "en": "Sorry, we could not read that number."},
    "area_code": {"zh": "这个号码可能是我们不同城市的几条线路之一，请连同区号再输入一次。",
                  "en": "That could be one of several of our lines in different cities. Key it in again with the area code."},
    "goodbye": {"zh": "感谢您的来电，再见。", "en": "Thank you for calling. Goodbye."},
    "genuine": {
        "zh": "核验通过：{brand}正在给您回访。客服{agent}，工号{agent_id}，来电号码{caller}。通话中仍不要透露验证码、密码，"
        "不要转账。",
        "en": "Verified: {brand_en} is calling you. Agent {agent_id}{agent}, calling from {caller}. Even so, never "
        "share codes or passwords or move money during the call.",
    },
    # The answer of every code that does not verify the call: wrong, expired, or no call being made.
    "not_verified": {
        "zh": "这通电话不是{brand}打的：核验码不对、已过期，或{brand}此刻没有给您打电话。",
        "en": "This call is not from {brand_en}: the code is wrong or expired, or {brand_en} is not calling you now.",
    },
    "locked": {
        "zh": "这个号码输错核验码的次数太多，电话核验已暂停。请用您本人的手机把核验码发送到{sms}。",
        "en": "Too many wrong codes were given for this phone, so checking here is paused. Text the code from "
        "your own phone to {sms}.",
    },
    "unavailable": {"zh": "暂时无法核实。请不要相信给您打电话的人。",
                    "en": "We cannot check right now. Do not trust the caller."},
    # Caller ID can be faked, so a stranger can use up a number's allowance on the hotline: both refusals
    # send the borrower where nobody else can lock them out, a text of the code from their own phone.
    "too_many_codes": {"zh": "这个号码输入核验码的次数太多，电话核验已暂停。请用您本人的手机把核验码发送到{sms}。",
                       "en": "Too many codes were keyed in for this phone, so checking here is paused. Text the "
                       "code from your own phone to {sms}."},
    "too_many_calls": {"zh": "这个号码来电太频繁，本热线暂停接听。请用您本人的手机把核验码发送到{sms}。在核实之前，"
                       "请不要相信自称{brand}给您打电话的人。",
                       "en": "Too many calls came from this number, so this hotline is paused for it. Text the code "
                       "from your own phone to {sms}. Until then, do not trust anyone who calls you as {brand_en}."},
    "no_caller_id": {
        "zh": "我们看不到您的手机号码，无法核实。请用您本人的手机拨打本热线，并显示号码；或把核验码用短信发送到{sms}。",
        "en": "We cannot see your mobile number, so we cannot check. Call this hotline from your own mobile with "
        "your number shown, or text the code to {sms}.",
    },
    # The menu's 3: a callback request for the number calling (caller ID, as the hotline sees it).
    "callback_asked": {
        "zh": "已收到您的回电申请。{brand}将在{within}小时内用{caller}给您回电。客服会报给您6位核验码，请用短信发送到{sms}核实。",
        "en": "We have your request. {brand_en} will call you back within {within} hours from {caller}. The agent "
        "will give you a 6-digit code: text it to {sms} to check the call.",
    },
    "callback_limited": {"zh": "现在无法受理更多回电申请。人工客服的服务时间是{hours}，请在这个时间拨打本热线。",
                         "en": "We cannot take more call-back requests now. People answer this hotline {hours}."},
    "callback_mobile": {
        "zh": "我们看不到您的手机号码，无法申请回电。请用您本人的手机拨打本热线，或用短信发送“回电”到{sms}。",
        "en": "We cannot see your mobile number, so we cannot arrange a call back. Call from your own mobile, or "
        "text CALLBACK to {sms}.",
    },
    "no_person": {"zh": "现在无法转接人工客服。人工客服的服务时间是{hours}。",
                  "en": "We cannot put you through to a person now. People answer this hotline {hours}."},
    "connecting": {"zh": "正在为您转接人工客服，请稍候。", "en": "Putting you through to a person. Please hold."},
    "after_person": {"zh": "人工客服的服务时间是{hours}。感谢您的来电，再见。",
                     "en": "People answer this hotline {hours}. Thank you for calling. Goodbye."},
    "number_was": {"zh": "您输入的号码是{number}。", "en": "You keyed in {number}."},
    # An official number: the web's advice sends people to this site or the SMS number; here they can
    # check the code on the line they are on.
    "number_official": {
        "zh": "这是{brand}的官方号码，但来电显示可以伪造。请让对方报出核验码，然后在本热线按1核对。",
        "en": "This is an official {brand_en} number, but caller ID can be faked. Ask the caller for the "
        "verification code, then press 1 on this hotline to check it.",
    },
}
# Warnings: the hang-up advice and NEVER follow them.
_VOICE_WARN = {"not_verified", "locked", "unavailable", "too_many_codes"}

_SPOKEN = {
    # Digits as Chinese callers read phone numbers (1 is 幺), each a word of its own.
    "zh": {**dict(zip("0123456789", "零幺二三四五六七八九", strict=True)), "+": "加", ".": "点", "_": "下划线"},
    "en": {"+": "plus", ".": "dot", "_": "underscore"},
}
_GROUPS = re.compile(r"[\s()\-]+")


def spoken(text, lang):
    """``text`` (a number as shown, an agent id) to be said one character at a time, a short pause
    between its groups: ``021 6080 0000`` -> ``零 二 幺，六 零 八 零，零 零 零 零`` / ``0 2 1, 6 0 8 0, 0 0 0 0``."""
    words = _SPOKEN[lang]
    groups = [" ".join(words.get(ch, ch) for ch in group) for group in _GROUPS.split(text) if group]
    return ("，" if lang == "zh" else ", ").join(groups)


def spoken_hours(hours, lang):
    """``09:00-21:00`` said: ``每天9点到21点`` / ``every day from 9 am to 9 pm``."""
    start, end = (tuple(int(part) for part in moment.split(":")) for moment in hours.split("-"))
    if lang == "zh":
        said = [f"{h}点" + (f"{m}分" if m else "") for h, m in (start, end)]
        return f"每天{said[0]}到{said[1]}"
    said = [f"{(h - 1) % 12 + 1}" + (f":{m:02d}" if m else "") + (" am" if h < 12 else " pm") for h, m in (start, end)]
    return f"every day from {said[0]} to {said[1]}"


def _voice_filled(brand, lang):
    return {**brand, "hotline": spoken(brand["hotline"], lang), "sms": spoken(brand["sms"], lang)}


def voice(kind, lang, brand, **values):
    """What the hotline says of ``kind`` in ``lang``, filled with the brand (its hotline and SMS number
    spoken) and ``values`` (already spoken); a warning ends with the hang-up advice and NEVER."""
    parts = [VOICE[kind][lang]]
    if kind in _VOICE_WARN:
        parts += [VOICE_HANG_UP[lang], NEVER[lang]]
    return ("" if lang == "zh" else " ").join(parts).format(**_voice_filled(brand, lang), **values)


def voice_number(verdict, lang, brand, number, imitated=None, impersonated=False):
    """The hotline's answer to a number check: the number as keyed in (spoken), then the verdict (the
    web's advice, with the voice's own words for an official number and a failed check)."""
    if verdict == v.UNAVAILABLE:
        return voice("unavailable", lang, brand)
    kind = "number_official" if verdict == v.OFFICIAL else None
    parts = [VOICE["number_was"][lang], VOICE[kind][lang] if kind else NUMBER[verdict][lang]]
    if impersonated:
        parts.append(IMPERSONATED[lang])
    if verdict != v.OFFICIAL:
        parts += [VOICE_HANG_UP[lang], NEVER[lang]]
    return ("" if lang == "zh" else " ").join(parts).format(**_voice_filled(brand, lang), number=number,
                                                            imitated=imitated or "")
