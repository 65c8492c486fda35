"""Phone numbers: normalising, rejecting, masking, HMACs and lookalike probes (real phonenumbers)."""

import pytest

from verify import phones

SAME_MOBILE = ["138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "１３８００１３８０００", "+8613800138000"]
SAME_LANDLINE = ["(021) 6080 0000", "021-60800000", "+86 21 6080 0000", "０２１－６０８０００００"]


@pytest.mark.parametrize("raw", SAME_MOBILE)
def test_mobile_forms_are_equal_after_normalising(raw):
    phone = phones.normalise_mobile(raw)
    assert phone.e164 == "+8613800138000"
    assert phone.display == "138 0013 8000"


@pytest.mark.parametrize("raw", SAME_LANDLINE)
def test_landline_forms_are_equal_after_normalising(raw):
    assert phones.normalise(raw).e164 == "+862160800000"


@pytest.mark.parametrize("raw", ["95188", "10086", "12381", "400-000-9518", "4008695188", "800-810-0000"])
def test_service_numbers_are_valid(raw):
    phone = phones.normalise(raw)
    assert phone.valid and not phone.mobile


@pytest.mark.parametrize(
    "raw, code, words",
    [
        ("", "empty", "enter"),
        ("   ", "empty", "enter"),
        (None, "empty", "enter"),
        ("call me", "letters", "letters"),
        ("138abc00138000", "letters", "letters"),
        ("1380013800012345678", "too_long", "too long"),
        ("1" * 41, "too_long", "too long"),
        ("12", "too_short", "too short"),
        ("+", "not_a_number", "look like"),
        ("021 6080 0000 # 1234", "not_a_number", "look like"),  # an extension: shown, never checked
    ],
)
def test_rejections_say_why(raw, code, words):
    with pytest.raises(phones.InvalidNumber) as info:
        phones.normalise(raw)
    assert info.value.code == code
    assert words in str(info.value)


def test_parseable_but_invalid_numbers_are_rejected_by_normalise_only():
    assert phones.parse("0095188").e164 == "+95188"  # a check still gets an answer
    with pytest.raises(phones.InvalidNumber) as info:
        phones.normalise("0095188")
    assert info.value.code == "invalid"


def test_borrower_number_must_be_mobile():
    with pytest.raises(phones.InvalidNumber) as info:
        phones.normalise_mobile("021-60800000")
    assert info.value.code == "not_mobile"


def test_default_region_is_configurable():
    assert phones.normalise("(202) 555-0123", region="US").e164 == "+12025550123"


@pytest.mark.parametrize(
    "e164, masked",
    [("+8613800138000", "138****8000"), ("+862160800000", "21****0000"), ("+8695188", "*5188"),
     ("+12025550123", "120****0123")],
)
def test_mask(e164, masked):
    assert phones.mask(e164) == masked
    assert "0013" not in phones.mask("+8613800138000")


def test_hmac_is_keyed_and_stable():
    a = phones.number_hmac(b"k1", "+8613800138000", "borrower")
    assert a == phones.number_hmac(b"k1", "+8613800138000", "borrower")
    assert a != phones.number_hmac(b"k2", "+8613800138000", "borrower")
    # Each purpose is a domain of its own: a reporter's contact cannot be matched to a borrower's keys.
    assert len({phones.number_hmac(b"k1", "+8613800138000", purpose) for purpose in phones.PURPOSES}) == len(phones.PURPOSES) == 4
    assert "13800138000" not in a and len(a) == 64


@pytest.mark.parametrize("raw", ["0095188", "+95188", "4009518800", "02195188", "+1 95188", "+852 95188"])
def test_lookalikes_carry_the_official_signature(raw):
    official = phones.signature(phones.normalise("95188"))
    assert official == "95188"
    assert phones.carries(phones.parse(raw), official)


def test_home_mobiles_are_not_lookalikes():
    assert not phones.carries(phones.parse("138 9518 8123"), "95188")
    assert phones.carries(phones.parse("021 9518 8123"), "95188")


def test_short_numbers_have_no_signature():
    assert phones.signature(phones.parse("110")) is None
