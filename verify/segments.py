"""How many SMS segments a text takes: the GSM 03.38 (3GPP TS 23.038) alphabet or UCS-2. Pure.

A text made only of the GSM 7-bit default alphabet goes as GSM-7: 160 septets in one message, 153 a
part when it is split (the concatenation header takes the rest); each character of the extension
table (``^{}\\[~]|€`` and form feed) costs two septets, an escape and the character, and a part never
ends between the two. One character outside that alphabet sends the whole text as UCS-2: 70 UTF-16
code units in one message, 67 a part, a surrogate pair (an emoji) is two units and stays in one part.
No national shift tables: Twilio and Chinese carriers do not use them for these texts.
"""

import re
from dataclasses import dataclass

# The GSM 7-bit default alphabet, in the table's order (0x00-0x7F); 0x1B is the escape to the extension.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# One pass in C over a reply (this runs on every SMS answered): a character outside both tables.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class Segments:
    """A text's encoding (``GSM-7`` or ``UCS-2``), its length in that encoding's units (septets or
    UTF-16 code units) and the number of messages it is sent as."""

    encoding: str
    units: int
    count: int


def is_gsm7(text):
    """True when every character of ``text`` is in the GSM-7 default alphabet or its extension."""
    return _NOT_GSM7.search(text) is None


def _costs(text, encoding):
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [len(ch.encode("utf-16-le")) // 2 for ch in text]


def count(text):
    """The ``Segments`` of ``text`` (an empty text is one message)."""
    encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    units = sum(_costs(text, encoding))
    if units <= SINGLE[encoding]:
        return Segments(encoding, units, 1)
    parts, room = 1, PART[encoding]
    for cost in _costs(text, encoding):  # only for texts of more than one message  # a character (an escape pair, a surrogate pair) is never split between parts
        if cost > room:
            parts, room = parts + 1, PART[encoding]
        room -= cost
    return Segments(encoding, units, parts)


def fits_one(text):
    """True when ``text`` goes as one message (``count(text).count == 1``, without counting parts)."""
    if _NOT_GSM7.search(text) is None:
        return len(text) + len(_EXTENSION.findall(text)) <= SINGLE["GSM-7"]
    return len(text) <= SINGLE["UCS-2"] and len(text.encode("utf-16-le")) <= 2 * SINGLE["UCS-2"]
