"""The pure verdict rules, as tables."""

import pytest

from verify import verdicts as v
from verify.services import advice

ACTIVE_OUT = {"status": "active", "direction": "outbound"}
ACTIVE_BOTH = {"status": "active", "direction": "both"}
INBOUND = {"status": "active", "direction": "inbound_only"}
RETIRED = {"status": "retired", "direction": "outbound"}
IMITATED = {"status": "active", "direction": "outbound", "number": "+8695188"}


@pytest.mark.parametrize(
    "entry, imitated, reporters, known, expected",
    [
        (ACTIVE_OUT, None, 0, False, v.OFFICIAL),
        (ACTIVE_BOTH, None, 0, False, v.OFFICIAL),
        (ACTIVE_OUT, None, 50, True, v.OFFICIAL),  # reports on our own number: spoofing, still ours
        (INBOUND, None, 0, False, v.INBOUND_ONLY),
        (RETIRED, None, 0, False, v.RETIRED),
        (None, IMITATED, 0, False, v.LOOKALIKE),
        (None, IMITATED, 9, False, v.LOOKALIKE),
        (None, IMITATED, 0, True, v.KNOWN_SCAM),
        (None, None, 0, True, v.KNOWN_SCAM),
        (None, None, 3, False, v.REPORTED),
        (None, None, 2, False, v.UNKNOWN),
        (None, None, 0, False, v.UNKNOWN),
    ],
)
def test_number_verdict(entry, imitated, reporters, known, expected):
    facts = v.NumberFacts(entry=entry, imitated=imitated, reporters_30d=reporters, known_scam=known)
    assert v.number_verdict(facts, reported_threshold=3) == expected


@pytest.mark.parametrize(
    "locked, matched, exists, channel, expected",
    [
        (False, True, True, "api", v.GENUINE),
        (False, False, True, "api", v.NOT_VERIFIED),
        (False, False, False, "api", v.NOT_VERIFIED),  # no session looks like a wrong code
        (False, False, False, "sms", v.NOT_CALLING),
        (False, False, True, "sms", v.NOT_VERIFIED),
        (True, False, False, "api", v.LOCKED),
        (True, True, True, "sms", v.LOCKED),
    ],
)
def test_call_verdict(locked, matched, exists, channel, expected):
    outcome = v.CodeOutcome(locked=locked, matched=matched, session_exists=exists)
    assert v.call_verdict(outcome, channel) == expected


@pytest.mark.parametrize(
    "ended, expired, locked, ok, expected",
    [
        (False, False, False, 0, v.ACTIVE),
        (False, False, False, 2, v.CONFIRMED),
        (False, False, True, 0, v.LOCKED),
        (False, True, True, 1, v.EXPIRED),
        (True, True, True, 1, v.ENDED),
    ],
)
def test_session_state(ended, expired, locked, ok, expected):
    assert v.session_state(ended, expired, locked, ok) == expected


@pytest.mark.parametrize("name, masked", [("王小明", "王**"), ("Li Wei", "L**"), ("欧阳娜娜", "欧**"), ("A", "A**")])
def test_mask_name(name, masked):
    assert v.mask_name(name) == masked


BRAND = {"brand": "OK钱包", "brand_en": "OK Wallet", "hotline": "400-000-9518", "sms": "10690009518"}


@pytest.mark.parametrize("verdict", v.NUMBER_VERDICTS)
def test_every_number_verdict_has_advice_in_both_languages(verdict):
    texts = advice.for_number(verdict, BRAND, imitated="95188")
    assert set(texts) == {"zh", "en"}
    if verdict != v.OFFICIAL:
        assert "400-000-9518" in texts["zh"] and "400-000-9518" in texts["en"]  # call the hotline yourself
    assert "{" not in texts["zh"] + texts["en"]


def test_official_advice_always_carries_the_spoofing_caveat():
    texts = advice.for_number(v.OFFICIAL, BRAND)
    assert "伪造" in texts["zh"] and "faked" in texts["en"]
    assert "10690009518" in texts["en"] and "400-000-9518" in texts["en"]


def test_lookalike_advice_names_the_imitated_number():
    assert "95188" in advice.for_number(v.LOOKALIKE, BRAND, imitated="95188")["en"]


@pytest.mark.parametrize("verdict", v.CALL_VERDICTS)
def test_call_advice(verdict):
    texts = advice.for_call(verdict, BRAND)
    hang_up = "400-000-9518" in texts["en"]
    assert hang_up == (verdict != v.GENUINE)
