"""Each process's copy of recently read number facts (``registry.reports.FactsCache``): during a campaign
the number the scammers show is checked thousands of times a second, and on a Redis Cluster every
read of its reports lands on the one ``{reports}`` primary. Read at most once a second per process;
a report filed or reviewed here shows at once, one filed elsewhere within the second."""

import os
import signal
import time

import pytest

from tests.conftest import registry_of
from tests.redis_process import RedisProcess
from verify.errors import StoreUnavailable
from verify.phones import parse
from verify.services.actor import Actor

SPOOFED = "13912345678"  # +8613912345678


def _check(client, number=SPOOFED, ip="203.0.113.7"):
    answer = client.get("/api/v1/check", query_string={"number": number}, environ_base={"REMOTE_ADDR": ip})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _file(client, number=SPOOFED, ip="198.51.100.1"):
    answer = client.post("/api/v1/reports", json={"number": number, "text": "冒充贷款客服要验证码"},
                         environ_base={"REMOTE_ADDR": ip})
    assert answer.status_code == 201, answer.get_json()


def test_a_hot_number_is_read_from_the_reports_once_a_second_whoever_checks_it(app, redis_server):
    client = app.test_client()
    _check(client)  # loads the scripts
    redis_server.reset_stats()
    started = time.monotonic()
    verdicts = {_check(client, ip=f"203.0.113.{n % 250}")["verdict"] for n in range(300)}
    seconds = time.monotonic() - started
    reads = redis_server.command_calls("zcount")  # number_facts.lua's count of the number's reporters
    print(f"\n300 checks of one number in {seconds:.2f} s: its reports read {reads} times")
    assert verdicts == {"unknown"}
    assert reads <= int(seconds) + 1  # without the copy: 300


def test_a_report_filed_through_this_process_shows_at_once(make_app):
    app = make_app(VERIFY_REPORTED_THRESHOLD=2)
    client = app.test_client()
    assert _check(client)["verdict"] == "unknown"
    _file(client, ip="198.51.100.1")
    assert _check(client)["reports_30d"] == 1
    _file(client, ip="192.0.2.9")  # another network: another reporter
    assert _check(client)["verdict"] == "reported"


def test_a_report_filed_through_another_process_shows_within_a_second(make_app):
    here, there = make_app(VERIFY_REPORTED_THRESHOLD=1), make_app(VERIFY_REPORTED_THRESHOLD=1)
    checks = here.test_client()
    assert _check(checks)["verdict"] == "unknown"  # here's copy: no reports
    _file(there.test_client())
    filed, verdicts = time.monotonic(), []
    while time.monotonic() - filed < 3:
        verdicts.append(_check(checks)["verdict"])
        if verdicts[-1] == "reported":
            break
        time.sleep(0.05)
    seen = time.monotonic() - filed
    print(f"\nthe other process's report showed after {seen:.2f} s ({len(verdicts)} checks)")
    assert verdicts[-1] == "reported" and seen < 1.3  # the copy's second, and one check's own time under load


def test_a_number_marked_or_cleared_as_a_scam_here_shows_at_once(app):
    client = app.test_client()
    review = app.extensions["verify"].review
    assert _check(client)["verdict"] == "unknown"
    support = Actor("lead")
    review.mark_known_scam(support, parse(SPOOFED, "CN"), True)
    assert _check(client)["verdict"] == "known_scam"
    review.mark_known_scam(support, parse(SPOOFED, "CN"), False)
    assert _check(client)["verdict"] == "unknown"


def test_a_flood_of_distinct_numbers_keeps_the_copy_small(app):
    """One person checking a million made-up numbers must not fill a worker's memory."""
    cache = registry_of(app).facts_cache
    cache.MAX_NUMBERS = 50
    client = app.test_client()
    for n in range(130):
        _check(client, f"1391234{n:04d}")
    assert 0 < len(cache) <= 50


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test alone, to stop."""
    server = RedisProcess(tmp_path / "private").start()
    yield server
    os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def test_a_mark_that_timed_out_drops_the_copy_all_the_same(make_app, private_redis):
    """A write that timed out may have run (Redis stopped, then woke and ran the MULTI): the copy read
    before it must go as after a write that answered, as a report's write does. The mark and the
    redaction dropped it only when Redis answered in time: the number stayed ``unknown`` here for the
    rest of the second while it was a known scam."""
    app = make_app(REDIS_URL=private_redis.url)
    client = app.test_client()
    assert _check(client)["verdict"] == "unknown"  # the copy: no reports, no mark
    reports, e164 = app.extensions["verify"].review._reports, parse(SPOOFED, "CN").e164
    cache = reports.cache
    assert cache is registry_of(app).facts_cache and cache.get(e164) is not None
    os.kill(private_redis.proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable):
            reports.mark_known_scam(e164, True)  # the registry's write (review reads the registry first)
    finally:
        os.kill(private_redis.proc.pid, signal.SIGCONT)  # Redis wakes and runs the mark
    assert private_redis.client().sismember("verify:{reports}:known-scam", e164)
    assert cache.get(e164) is None


def test_the_copys_age_counts_from_when_the_read_was_sent():
    """A read that took long (a slow round trip) is already that old when its answer arrives."""
    from verify.registry.reports import FactsCache

    cache = FactsCache()
    ticket = cache.ticket()
    time.sleep(0.3)  # the round trip
    cache.put("+8613912345678", (1, False), ticket)
    assert cache.get("+8613912345678") == (1, False)
    time.sleep(cache.FRESH_SECONDS - 0.2)  # a second after the read was sent, 0.8 s after its answer
    assert cache.get("+8613912345678") is None


def test_a_read_across_a_change_of_this_process_is_not_kept():
    from verify.registry.reports import FactsCache

    cache = FactsCache()
    ticket = cache.ticket()
    cache.forget("+8613900000000")  # a report filed here while the read was on its way
    cache.put("+8613912345678", (0, False), ticket)
    assert cache.get("+8613912345678") is None
