"""What verify tells a borrower, in Chinese and English: the one place for advice texts.

Each verdict has a text per language; ``{brand}``, ``{hotline}``, ``{sms}`` and ``{imitated}`` are
filled from configuration and the facts. The API returns both languages; the SMS and web channels
pick one.
"""

from verify import verdicts as v

# Said with every warning: the rules that unmask most scams.
NEVER = {
    "zh": "{brand}绝不会索要短信验证码、密码或银行卡信息，绝不会让您转账到“安全账户”。",
    "en": "{brand_en} never asks for SMS codes, passwords or card details, and never asks you to move money.",
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
        "en": "Several people have reported this number. It is not a {brand_en} number.",
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
    v.LOCKED: {
        "zh": "核验码错误次数太多，已暂停核验。",
        "en": "Too many wrong codes: checking is paused for now.",
    },
    v.UNAVAILABLE: {
        "zh": "暂时无法核实。",
        "en": "We cannot check right now.",
    },
}

# Verdicts after which the borrower should hang up and call the hotline themselves.
_WARN = {v.INBOUND_ONLY, v.RETIRED, v.LOOKALIKE, v.KNOWN_SCAM, v.REPORTED, v.UNKNOWN, v.UNAVAILABLE,
         v.NOT_VERIFIED, v.NOT_CALLING, v.LOCKED}


def _render(table, verdict, brand, **values):
    texts = {}
    for lang in ("zh", "en"):
        parts = [table[verdict][lang]]
        if verdict in _WARN:
            parts.append(HANG_UP[lang])
        if verdict != v.GENUINE:
            parts.append(NEVER[lang])
        sep = "" if lang == "zh" else " "
        texts[lang] = sep.join(parts).format(**brand, **values)
    return texts


def for_number(verdict, brand, imitated=None):
    """Advice for a number check: ``{"zh": ..., "en": ...}``. ``brand`` holds brand, brand_en, hotline, sms."""
    return _render(NUMBER, verdict, brand, imitated=imitated or "")


def for_call(verdict, brand):
    """Advice for a call verification: ``{"zh": ..., "en": ...}``."""
    return _render(CALL, verdict, brand)
