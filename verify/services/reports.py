"""Filing a scam report: the one operation the web form, the SMS REPORT command and the API call.

It validates, writes the report with its indexes under the client's report limit (one Lua call), and
raises the spoofing signal when the report names one of our own numbers: scammers show it as caller ID.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import time
import unicodedata

from verify import phones, times
from verify.errors import N_, Invalid, RateLimited, Said, StoreUnavailable
from verify.registry.replies import Filed
from verify.services import clients, fields
from verify.services.once import KEY_REUSED, once_of

log = logging.getLogger(__name__)

CATEGORIES = ("sms_code", "card_password", "transfer", "screen_share", "cancel_account", "threats", "police_court", "other")
CHANNELS = ("call", "sms")
SOURCES = ("web", "sms", "api")
MAX_TEXT = 2000
_FIELDS = ("number", "occurred_at", "channel", "categories", "text", "amount_lost", "reporter_phone")
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: people read references out
TOO_MANY = "Too many reports from your address. Please wait a little and try again."


def clean_report(data, region, now=None):
    """Validate what a reporter sent; return the clean fields or raise ``Invalid`` listing every problem.

    ``data``: number (required), occurred_at (ISO date-time, default now), channel (call|sms),
    categories (list), text (at most 2000 characters), amount_lost (number >= 0), reporter_phone.
    """
    errors = []
    fields.no_unknown(data, _FIELDS, errors)
    phone = fields.number(data, "number", errors, region, reader=phones.parse_checked)
    channel = fields.choice(data, "channel", CHANNELS, errors, required=False) or "call"
    categories = data.get("categories") or []
    if not isinstance(categories, list) or any(not isinstance(c, str) or c not in CATEGORIES for c in categories):
        errors.append(("categories", f"must be a list of: {', '.join(CATEGORIES)}"))
        categories = []
    text = data.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT or fields.has_control_characters(text):
        errors.append(("text", Said(N_("must be a text of at most %(max)s characters, without control characters"),
                                    max=MAX_TEXT)))
        text = ""
    occurred = _occurred_at(data, errors, now or time.time())
    amount = _amount(data.get("amount_lost"), errors)
    reporter = fields.number(data, "reporter_phone", errors, region, required=False) if data.get("reporter_phone") else None
    if errors:
        raise Invalid(errors)
    return {"phone": phone, "number_raw": str(data["number"])[:64], "channel": channel,
            "categories": sorted(set(categories), key=CATEGORIES.index), "text": text.strip(),
            "occurred_at": occurred, "amount_lost": amount, "reporter": reporter}


# The words people use for what a scammer asked for, per category (matched on the text folded by
# ``categories_in``). Chinese as written in reports and in the source article; English whole words.
_CATEGORY_WORDS = {
    "sms_code": ("验证码", "校验码", "动态码", "短信码", "动态密码", r"\bcodes?\b", r"\botps?\b", "one-time password",
                 r"\bpasscodes?\b"),
    "card_password": ("密码", "银行卡", "卡号", "信用卡", "cvv", r"\bpasswords?\b", r"\bpins?\b", r"\bcard (number|details)",
                      r"\bbank cards?\b", r"\bcredit cards?\b"),
    "transfer": ("转账", "汇款", "打款", "转钱", "打钱", "安全账户", r"\btransfer", r"\bwire\b", r"\bsend (me )?money",
                 r"\bmove (my )?money", r"\bsafe account"),
    "screen_share": ("屏幕共享", "共享屏幕", "录屏", "远程", "下载", "安装", "腾讯会议", r"\bscreen ?shar", r"\bshare (my|the|your) screen",
                     r"\binstall", r"\bdownload", r"\banydesk\b", r"\bteamviewer\b", r"\bzoom\b", r"\bremote\b"),
    "cancel_account": ("注销", "征信", "校园贷", "学生贷", "消除记录", r"\bcancel (my |the |your )?(loan )?account",
                       r"\bclose (my |the |your )?(loan )?account", r"\bcredit (record|score|report|history)",
                       r"\bstudent loan"),
    "threats": ("威胁", "恐吓", "曝光", "通讯录", "爆通讯录", r"\bthreat", r"\bexpose", r"\bmy contacts\b"),
    "police_court": ("公安", "警察", "警官", "民警", "法院", "检察院", "通缉", "逮捕", "洗钱", "立案", "传票", r"\bpolice\b",
                     r"\bcourt\b", r"\barrest", r"\bwarrant\b", r"\bmoney laundering\b", r"\bprosecutor"),
}
_CATEGORY_PATTERNS = {category: re.compile("|".join(words)) for category, words in _CATEGORY_WORDS.items()}


def categories_in(text):
    """The report categories a reporter's own words name (an SMS report has no checkboxes):
    验证码 -> sms_code, 转账 -> transfer, 屏幕共享 -> screen_share, 注销 / 征信 -> cancel_account, ...,
    and the English words. Words that name none: ``["other"]``; no words: ``[]``."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    if not folded.strip():
        return []
    found = [category for category, pattern in _CATEGORY_PATTERNS.items() if pattern.search(folded)]
    return found or ["other"]


EARLIEST = 946684800  # 2000-01-01T00:00:00Z: nothing a reporter remembers happened before
TOO_EARLY = N_("must be after 2000-01-01")


def _occurred_at(data, errors, now):
    moment = fields.moment(data, "occurred_at", errors)
    if moment is not None and moment > now + 86400:  # a day of slack for clocks and time zones
        errors.append(("occurred_at", N_("cannot be in the future")))
        return None
    if moment is not None and moment < EARLIEST:
        errors.append(("occurred_at", TOO_EARLY))
        return None
    return times.iso(moment) if moment is not None else None


def _amount(value, errors):
    if value in (None, ""):
        return None
    try:
        amount = round(float(value), 2)
    except (TypeError, ValueError, OverflowError):
        errors.append(("amount_lost", "must be an amount like 5000 or 199.50"))
        return None
    if math.isnan(amount) or not 0 <= amount < 1e10:
        errors.append(("amount_lost", "must be an amount from 0 upwards"))
        return None
    return amount


def fingerprint(hmac_key, source, reporter_phone=None, client_ip=None):
    """Who reported, without saying who, as a reporter that cannot be invented cheaply: by SMS the
    sender's own number; on the web and the API the client's network (/24, /64), never a phone number
    they typed. A keyed HMAC in a domain of its own (it links to no other key of the reporter)."""
    subject = f"sms:{reporter_phone.e164}" if source == "sms" and reporter_phone else f"net:{clients.network(client_ip)}"
    return hmac.new(hmac_key, f"reporter|{subject}".encode(), hashlib.sha256).hexdigest()[:32]


def new_id(now):
    """A reference people can read out: R + date + 6 characters, e.g. R261130-7KQ2MD.

    30 random bits a day: a busy day can repeat one, so the write refuses an id in use and
    ``ReportIntake.file`` draws another.
    """
    day = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%y%m%d")
    # One read of the system's randomness for all six characters (5 bits each), not one per character.
    bits = int.from_bytes(secrets.token_bytes(4), "big")
    return f"R{day}-" + "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 30, 5))


def build_record(hmac_key, report, source, now, client_ip=None, seal=None):
    """The stored form of a cleaned report (from ``clean_report``), with a new id; ``seal`` encrypts
    the reporter's number so that support can call them back (``Review.contact``)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    reporter = report["reporter"]
    return {
        "id": new_id(now),
        "number": report["phone"].e164,
        "number_raw": report["number_raw"],
        "occurred_at": report["occurred_at"] or times.iso(now),
        "received_at": times.iso(now),
        "channel": report["channel"],
        "categories": ",".join(report["categories"]),
        "text": report["text"],
        "amount_lost": "" if report["amount_lost"] is None else f"{report['amount_lost']:.2f}",
        "contact_hmac": phones.number_hmac(hmac_key, reporter.e164, "contact") if reporter else "",
        "contact_masked": phones.mask(reporter.e164) if reporter else "",
        "contact_sealed": seal(reporter.e164) if reporter and seal else "",
        "fingerprint": fingerprint(hmac_key, source, reporter, client_ip),
        "source": source,
        "status": "new",
        "assignee": "",
        "notes": "[]",
        "history": json.dumps([{"at": times.iso(now), "by": source, "change": "filed"}]),
    }


class ReportIntake:
    """Files reports; built once with the report store, the registry, the limiter and the settings."""

    def __init__(self, reports, numbers, limits, hmac_key, region, windows, contacts=None):
        self._reports = reports
        self._numbers = numbers
        self._limits = limits
        self._hmac_key = hmac_key
        self._region = region
        self._windows = tuple(windows)  # per client: [(amount, seconds)]
        self._contacts = contacts  # the Sealer of reporters' numbers

    def file(self, data, source, actor, limited=False, now=None, idempotency_key=None):
        """File a report from ``actor``; return ``(id, received time)``. ``limited``: count it against
        the client's report limit (``RateLimited`` when reached). With an ``idempotency_key`` the same
        request from the same client is filed once (a day): a retry returns the first report's id and
        time. Raises ``Invalid`` listing every problem."""
        now = now or int(time.time())
        report = clean_report(data, self._region, now)
        record = build_record(self._hmac_key, report, source, now, actor.ip,
                              seal=self._contacts.seal if self._contacts else None)
        windows = self._windows if limited else ()
        subject = self._limits.subject("ip", actor.ip or "unknown")
        once = once_of(self._hmac_key, actor, idempotency_key, data) if idempotency_key is not None else None
        for _attempt in range(3):
            written = self._reports.write(record, now, windows, subject, once)
            if written.outcome is Filed.YES:
                self._spoofing_signal(record)
                return record["id"], now
            if written.outcome is Filed.AGAIN:
                return written.earlier
            if written.outcome is Filed.REUSED:
                raise Invalid([("Idempotency-Key", KEY_REUSED)])
            if written.outcome is Filed.LIMITED:
                raise RateLimited(written.wait, TOO_MANY)
            record["id"] = new_id(now)  # that reference is taken today: draw another
        raise StoreUnavailable("the report could not be filed after several attempts")


    def filed(self, reference):
        """True when ``reference`` names a report that was filed (the thank-you page shows no other)."""
        return len(reference) <= 20 and reference.startswith("R") and self._reports.exists(reference)

    def _spoofing_signal(self, record):
        # The registry copy was made current by the write itself.
        official = self._numbers.official(record["number"])
        if official is not None:
            log.warning("spoofing signal: report %s names our number %s (%s)", record["id"], official["number"],
                        official["labels"]["en"])
