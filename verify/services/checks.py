"""Checking a number that called: is it ours, imitating ours, or reported? For every channel."""

import time
from dataclasses import dataclass

from verify import phones
from verify import verdicts as v
from verify.errors import AreaCodeNeeded, Invalid, StoreUnavailable
from verify.services import advice, fields
from verify.services.limits import API_CHECK


@dataclass(frozen=True)
class NumberAnswer:
    """A number check: ``facts`` is None when the store failed (verdict ``unavailable``)."""

    phone: phones.Phone
    verdict: str
    facts: v.NumberFacts | None
    imitated: str | None  # how the imitated official number is shown, for lookalikes
    advice: dict
    typed: str = ""  # the number as typed, digits grouped (``Phone.typed``)
    local: bool = False  # typed without the area code, it is one of our lines: ``phone`` is that line

    @property
    def shown(self):
        """The number to show: as the borrower typed it, or in full when they typed one of our lines
        without its area code."""
        return self.phone.display if self.local else self.typed


class NumberChecks:
    """The number check, bound to the registry, the reports and the settings it needs."""

    def __init__(self, numbers, reports, client_limits, region, brand, reported_threshold):
        self._numbers = numbers
        self._reports = reports
        self._client_limits = client_limits
        self._region = region
        self._brand = brand
        self._threshold = reported_threshold

    @property
    def registry_cache(self):
        """This process's copy of the registry's index (see ``registry.numbers.RegistryCache``)."""
        return self._numbers.cache

    @property
    def facts_cache(self):
        """This process's copy of recently read number facts (see ``registry.reports.FactsCache``)."""
        return self._reports.cache

    def read(self, data, field="number"):
        """The number to check from ``data[field]`` as typed; ``Invalid`` if it is no number at all."""
        errors = []
        phone = fields.number(data, field, errors, self._region, reader=phones.parse_checked)
        if errors:
            raise Invalid(errors)
        return phone

    def check(self, phone, client_ip=None):
        """Look ``phone`` up (one round trip) and decide; a store failure is the ``unavailable`` answer.
        With ``client_ip`` (the public API) the check counts against that client's API limit in the
        same round trip (``RateLimited`` past it)."""
        limits = self._client_limits.calls(API_CHECK, client_ip) if client_ip is not None else ()
        typed = phone.typed
        try:
            hits, (reporters_30d, known_scam) = self._reports.facts(phone.e164, int(time.time()), limits)
            if limits:
                self._client_limits.settle(API_CHECK, hits)
            lines = self._numbers.local_lines(phone)  # the registry copy was made current by that call
            if len(lines) > 1:
                raise AreaCodeNeeded(typed, [phones.display(line, self._region) for line in lines])
            if lines:  # one of our lines typed without its area code: the facts of that line
                phone = phones.parse(lines[0], self._region)
                _hits, (reporters_30d, known_scam) = self._reports.facts(phone.e164, int(time.time()), ())
        except StoreUnavailable:
            return NumberAnswer(phone, v.UNAVAILABLE, None, None, advice.for_number(v.UNAVAILABLE, self._brand), typed)
        entry = self._numbers.official(phone.e164)
        facts = v.NumberFacts(entry=entry, imitated=None if entry else self._numbers.imitated(phone),
                              reporters_30d=reporters_30d, known_scam=known_scam)
        verdict = v.number_verdict(facts, self._threshold)
        imitated = phones.display(facts.imitated["number"], self._region) if facts.imitated else None
        texts = advice.for_number(verdict, self._brand, imitated=imitated, impersonated=v.impersonated(facts))
        return NumberAnswer(phone, verdict, facts, imitated, texts, typed, bool(lines))
