"""Phone numbers: parsing, normalising to E.164, masking, HMACs and lookalike keys.

The only module that imports ``phonenumbers``. Everything else handles numbers as E.164 strings.
"""

import functools
import hashlib
import hmac
import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# Shorter official numbers (110, 120) are too common inside other numbers to mean imitation.
MIN_LOOKALIKE_DIGITS = 5
# A fixed line's number within its city (without the area code) has 7 or 8 digits in China; fewer
# would be too common inside other numbers, and could be the local number of several lines.
MIN_LOCAL_DIGITS, MAX_LOCAL_DIGITS = 7, 8
MAX_INPUT_CHARS = 40
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidNumber(ValueError):
    """The input is not a phone number; ``code`` is stable, ``str()`` is for people."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Phone:
    """A parsed number: canonical E.164 key, what kind of number it is, and (on demand) how to show it."""

    __slots__ = ("e164", "valid", "mobile", "home", "digits", "national", "local", "_number", "_display", "_text",
                 "_typed", "_region")

    def __init__(self, number, region, text=None):
        national = phonenumbers.national_significant_number(number)
        # The number type is computed once: is_valid_number and number_type would each compute it.
        kind = phonenumbers.number_type(number)
        self.home = phonenumbers.region_code_for_country_code(number.country_code) == region
        self.e164 = f"+{number.country_code}{national}"  # what format_number(E164) builds, without the cost
        self.valid = kind != PhoneNumberType.UNKNOWN or (self.home and phonenumbers.is_valid_short_number(number))
        self.mobile = kind in _MOBILE_TYPES
        self.digits = f"{number.country_code}{national}"  # country code + national number: lookalike matching
        self.national = national  # an official number's lookalike signature
        self._number = number
        self._display = None
        self._text = text if text is not None else self.e164
        self._typed = None
        self._region = region
        # Digits dialled without the area code, as within a city (6080 0000 for 021 6080 0000): no
        # number of their own, so they may name one of our fixed lines (``local_part``).
        # Only the digits themselves: nothing taken off as a prefix (0, 86, +86) when they were read.
        self.local = (self.home and not self.valid and MIN_LOCAL_DIGITS <= len(national) <= MAX_LOCAL_DIGITS
                      and "".join(_DIGIT_RUNS.findall(self._text)) == national)

    @property
    def display(self):
        """National format at home (021 6080 0000), international abroad (+852 2160 800000)."""
        if self._display is None:
            fmt = PhoneNumberFormat.NATIONAL if self.home else PhoneNumberFormat.INTERNATIONAL
            self._display = phonenumbers.format_number(self._number, fmt)
        return self._display

    @property
    def typed(self):
        """The number as the person typed it, digits grouped (1021-6080-0000 -> 1021 6080 0000), never
        regrouped by a reading of it that may be wrong (010 216 080 0000). One run of digits is grouped
        like the valid number it is (021 6080 0000, +86 21 6080 0000), else in fours from the right."""
        if self._typed is None:
            code = str(self._number.country_code)
            # Digits the reading dropped (a carrier's prefix: +86 12593 21 6080 0000 is 021 6080 0000)
            # are never shown beside the verdict of the number without them: that number is shown.
            shown = not self.valid or _plain_prefix(self._text, self.national) in ("", "0", code, code + "0",
                                                                                  "00" + code, "00" + code + "0")
            runs = _DIGIT_RUNS.findall(self._text)
            if shown and len(runs) == 1 and self.valid and self.home and _digits(self.display) == runs[0]:
                self._typed = self.display  # one run, as we show it (02160800000): no second reading
            elif shown:
                self._typed = _grouped(self._text, self._region if self.valid else None, int(code))
            else:
                self._typed = self.display
        return self._typed

    def __repr__(self):
        return f"Phone({self.e164})"


_DIGIT_RUNS = re.compile(r"\d+")
MAX_TYPED_GROUPS = 6  # more groups than a number is written in: regrouped (it is shown in one SMS)


def _plain_prefix(text, national):
    # The digits typed before the national number, or None when they do not end with it.
    digits = "".join(_DIGIT_RUNS.findall(text))
    return digits[:len(digits) - len(national)] if digits.endswith(national) else None


def _digits(text):
    return "".join(_DIGIT_RUNS.findall(text))


def _grouped(text, region, country_code):
    plus = "+" if text.startswith("+") else ""
    groups = _DIGIT_RUNS.findall(text)
    if 2 <= len(groups) <= MAX_TYPED_GROUPS:
        return plus + " ".join(groups)
    digits = "".join(groups)
    if region is not None:
        # A valid number typed in one run: its own format, with the prefix as typed (0, +86, 0086 ...).
        shown = phonenumbers.format_in_original_format(phonenumbers.parse(text, region, keep_raw_input=True), region)
        if "".join(_DIGIT_RUNS.findall(shown)) == digits:
            return shown
    country = str(country_code) if plus and digits.startswith(str(country_code)) else ""
    digits = digits[len(country):]  # +<country code> stays a group of its own
    head = len(digits) % 4 or 4
    return " ".join([plus + country] * bool(plus + country)
                    + [digits[:head], *(digits[i:i + 4] for i in range(head, len(digits), 4))])


def _clean(raw):
    if raw is None or not str(raw).strip():
        raise InvalidNumber("empty", "Please enter a phone number.")
    text = unicodedata.normalize("NFKC", str(raw)).strip()  # full-width digits and ＋ become ASCII
    # Any script's digits as ASCII, as phonenumbers reads them: the number is shown as typed, and ৪ (4)
    # drawn like an 8, or ٠ (0) like a dot, must not show another number beside this one's verdict.
    text = "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in text)
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidNumber("too_long", "That is too long to be a phone number.")
    if any(ch.isalpha() for ch in text):
        raise InvalidNumber("letters", "A phone number has digits only, no letters.")
    return text


def parse(raw, region="CN"):
    """Parse what a person typed into a ``Phone``; raise ``InvalidNumber`` if it is no number at all.

    Numbers that parse but are not valid (spoofed caller IDs often are not) still come back, with
    ``valid`` False: a borrower checking such a number deserves an answer, not an error.
    """
    text = _clean(raw)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type in (NumberParseException.TOO_LONG,):
            raise InvalidNumber("too_long", "That is too long to be a phone number.") from None
        if exc.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            raise InvalidNumber("too_short", "That is too short to be a phone number.") from None
        raise InvalidNumber("not_a_number", "That does not look like a phone number.") from None
    if len(phonenumbers.national_significant_number(number)) < 3:
        raise InvalidNumber("too_short", "That is too short to be a phone number.")
    if number.extension:
        # Digits after #, ~ or ,, are read as an extension and left out of the number checked, yet they
        # are shown as typed: 021 6080 0000 # 1234 would be "official". No caller ID carries one.
        raise InvalidNumber("not_a_number", "That does not look like a phone number.")
    return Phone(number, region, text)


@functools.lru_cache(maxsize=8192)
def parse_checked(raw, region="CN"):
    """``parse`` with a memory: during a scam campaign thousands of people check the same few
    spoofed numbers. Only for number checks (a ``Phone`` is never changed after parsing)."""
    return parse(raw, region)


@functools.lru_cache(maxsize=1024)
def display(e164, region="CN"):
    """How to show a stored E.164 number (cached: official numbers are shown over and over): as people
    read it when it is a valid number, else its stored digits grouped, never re-read (a national
    reading of an invalid one drops its country code: +86878430570614432 is not 878430570614432)."""
    phone = parse(e164, region)
    return phone.display if phone.valid else phone.typed


def normalise(raw, region="CN"):
    """Return a valid number as a ``Phone``, or raise ``InvalidNumber`` with a reason people understand."""
    phone = parse(raw, region)
    if not phone.valid:
        raise InvalidNumber("invalid", "That is not a valid phone number.")
    return phone


def normalise_mobile(raw, region="CN"):
    """Like ``normalise``, for a number that must receive SMS (a borrower's own phone)."""
    phone = normalise(raw, region)
    if not phone.mobile:
        raise InvalidNumber("not_mobile", "That is not a mobile phone number.")
    return phone


def mask(e164_or_display):
    """Hide the middle of a number for display: +8613800138000 -> 138****8000."""
    digits = "".join(ch for ch in e164_or_display if ch.isdigit())
    if e164_or_display.startswith("+86") and len(digits) > 2:
        digits = digits[2:]
    if len(digits) <= 4:
        return "*" * len(digits)
    # Last four shown, at least four hidden before them, and up to three shown at the front.
    keep_head = max(0, min(3, len(digits) - 8))
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


PURPOSES = ("borrower", "optout", "contact", "callback")


def number_hmac(key, e164, purpose):
    """Keyed HMAC-SHA256 of an E.164 number for one ``purpose`` (the borrower's keys, the opt-out
    list, a reporter's contact): how numbers are stored and looked up. Each purpose is a domain of
    its own, so one kind of record cannot be linked to another without the key."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    return hmac.new(key, f"{purpose}|{e164}".encode(), hashlib.sha256).hexdigest()


def carries(phone, signature):
    """True when ``phone`` carries an official number's ``signature`` (see ``signature``): it imitates it.

    A number imitates an official one when its digits (country code included) contain the official
    number's national significant number with something added or changed around it: 0095188 (+95 188),
    400-95188-00 or 021-95188 against 95188, or the official number under another country code.
    Ordinary mobile numbers of the home region are personal lines; five digits of a service number
    inside one are coincidence.
    """
    if phone.mobile and phone.home:
        return False
    return signature in phone.digits


def signature(phone):
    """The digits a lookalike of this official number would carry, or None if too short to tell."""
    return phone.national if len(phone.national) >= MIN_LOOKALIKE_DIGITS else None


def local_part(phone):
    """The digits of one of our fixed lines as dialled within its city, without the area code
    (021 6080 0000 -> 60800000), or None for a number without an area code (mobiles, 400, 95xxx,
    abroad): what a borrower types when the caller ID showed no area code."""
    if not phone.home:
        return None
    length = phonenumbers.length_of_geographical_area_code(phone._number)
    rest = phone.national[length:]
    return rest if length and MIN_LOCAL_DIGITS <= len(rest) <= MAX_LOCAL_DIGITS else None
