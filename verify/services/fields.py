"""Readers for the fields of untrusted input (JSON bodies, query strings, CSV rows, forms).

Each reader returns the clean value, or None after appending ``(field, message)`` to ``errors``, so
one request reports every problem at once. No Flask, no Redis.
"""

import datetime as dt
import unicodedata

from verify import phones, times
from verify.errors import N_, Said


def text(data, field, errors, limit, required=True):
    """A non-empty text of at most ``limit`` characters, stripped, with no control characters (they
    would break the SMS and the pages it is shown on)."""
    value = data.get(field)
    if value is None:
        if required:
            errors.append((field, N_("is required")))
        return None
    if not isinstance(value, str) or not value.strip():
        errors.append((field, N_("must be a non-empty text")))
        return None
    if has_control_characters(value):
        errors.append((field, N_("must not contain control characters")))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append((field, Said(N_("must be at most %(limit)s characters"), limit=limit)))
        return None
    return value


def has_control_characters(value, allowed="\n\t"):
    """True when ``value`` holds a control, format or unassigned character other than ``allowed``
    (line breaks and tabs in free text)."""
    return any(unicodedata.category(ch)[0] == "C" and ch not in allowed for ch in value)


def choice(data, field, choices, errors, required=True):
    """One of ``choices``."""
    value = data.get(field)
    if value is None:
        if required:
            errors.append((field, f"is required: one of {', '.join(choices)}"))
        return None
    if value not in choices:
        errors.append((field, f"must be one of {', '.join(choices)}"))
        return None
    return value


def number(data, field, errors, region, reader=phones.normalise, required=True):
    """A phone number read by ``reader`` (phones.parse, normalise or normalise_mobile) into a ``Phone``."""
    value = data.get(field)
    if value is None and not required:
        return None
    if value is not None and not isinstance(value, str):
        errors.append((field, "must be a phone number written as text"))
        return None
    try:
        return reader(value, region)
    except phones.InvalidNumber as exc:
        errors.append((field, str(exc)))
        return None


def decimal_digits(text):
    """The decimal digits of ``text`` in ASCII, whatever script they are written in (full-width,
    Arabic-Indic, Devanagari ...); other characters are left out."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def code(data, errors, field="code"):
    """The 6-digit code a caller read out; digits of any script, spaces and dashes are fine."""
    value = data.get(field)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1_000_000:
        value = f"{value:06d}"
    if not isinstance(value, str) or len(value) > 40:
        errors.append((field, "is required: the 6-digit code the caller told you"))
        return None
    kept = "".join(value.split()).replace("-", "")
    digits = decimal_digits(kept)
    if len(digits) != 6 or len(kept) != 6:
        errors.append((field, "must be the 6 digits the caller told you"))
        return None
    return digits


def no_unknown(data, allowed, errors):
    """Report every field that is not in ``allowed`` (a typo should not pass silently)."""
    for field in sorted(set(data) - set(allowed)):
        errors.append((field, f"unknown field; allowed: {', '.join(allowed)}"))


def moment(data, field, errors, end_of_day=False, zone=dt.UTC):
    """A date or time (see ``times.parse``; ``zone`` when it names none) as Unix seconds; None when absent."""
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        return times.parse(value, end_of_day=end_of_day, zone=zone)
    except (ValueError, OverflowError):
        errors.append((field, N_("must be a date or time like 2026-11-30 or 2026-11-30T08:00:00Z")))
        return None


def whole_number(data, field, errors, low, high, default):
    """A whole number from ``low`` to ``high`` written with ASCII digits (``default`` when absent)."""
    value = data.get(field)
    if value in (None, ""):
        return default
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and low <= int(text) <= high):
        errors.append((field, f"must be a whole number from {low} to {high}"))
        return None
    return int(text)
