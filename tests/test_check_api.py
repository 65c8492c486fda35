"""GET /api/v1/check: every number verdict through the real app and Redis."""

import time

import pytest

from tests.conftest import registry_of, version_reads
from verify.services.actor import CLI


def check(client, number):
    response = client.get("/api/v1/check", query_string={"number": number})
    return response.status_code, response.get_json()


@pytest.mark.parametrize(
    "number, verdict",
    [
        ("021-6080-0000", "official"),
        ("+86 21 6080 0000", "official"),
        ("021-6080-0099", "official"),  # a registered display variant is ours, not a lookalike
        ("10690009518", "official"),
        ("400-000-9518", "inbound_only"),
        ("021-6080-1111", "retired"),
        ("13800138000", "unknown"),
        ("+44 20 7946 0000", "unknown"),
    ],
)
def test_registry_verdicts(client, number, verdict):
    status, body = check(client, number)
    assert status == 200
    assert body["verdict"] == verdict
    assert body["reports_30d"] == 0


def test_official_answer_carries_caveat_and_how_to_confirm(client):
    _, body = check(client, "021-6080-0000")
    assert body["label"] == {"zh": "OK钱包回访专线（演示）", "en": "Callback line (demo)"}
    assert "faked" in body["advice"]["en"] and "伪造" in body["advice"]["zh"]
    assert "10690009518" in body["advice"]["en"]  # text the code to the SMS number
    assert "400-000-9518" in body["advice"]["en"]  # or call the hotline


def test_inbound_only_says_any_call_is_fake(client):
    _, body = check(client, "4000009518")
    assert "fake" in body["advice"]["en"] and "伪造" in body["advice"]["zh"]


@pytest.fixture
def with_95188(client, key):
    headers = key("registry")
    body = {"number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"}
    assert client.post("/api/v1/numbers", json=body, headers=headers).status_code == 201


@pytest.mark.parametrize("number", ["0095188", "+95188", "4009518800", "02195188", "+1 95188", "+852 95188"])
def test_lookalikes(client, with_95188, number):
    status, body = check(client, number)
    assert status == 200
    assert body["verdict"] == "lookalike", body
    assert body["imitates"]["number"] == "+8695188"
    assert "95188" in body["advice"]["en"]
    assert body["label"] is None


def test_official_number_itself_is_not_a_lookalike(client, with_95188):
    assert check(client, "95188")[1]["verdict"] == "official"


def test_official_number_under_another_country_code(client):
    _, body = check(client, "+852 2160 800000")
    assert body["verdict"] == "lookalike"
    assert body["imitates"]["number"] == "+862160800000"


def test_retired_numbers_are_not_imitated(client):
    assert check(client, "+852 2160801111")[1]["verdict"] == "unknown"


def _report(app, e164, reporter, when=None):
    # Planted as this process's own filing would be: its copy of the number's facts is dropped.
    svc = app.extensions["verify"]
    svc.store.redis.zadd(registry_of(app).reporters_key(e164), {reporter: when or time.time()})
    svc.checks.facts_cache.forget(e164)


def test_reported_needs_distinct_reporters_in_30_days(app, client):
    number = "+8613912345678"
    _report(app, number, "r1")
    _report(app, number, "r2")
    _report(app, number, "old", when=time.time() - 31 * 86400)
    status, body = check(client, "139 1234 5678")
    assert body["verdict"] == "unknown" and body["reports_30d"] == 2
    _report(app, number, "r3")
    _, body = check(client, "139 1234 5678")
    assert body["verdict"] == "reported" and body["reports_30d"] == 3


def test_threshold_is_configurable(make_app):
    app = make_app(VERIFY_REPORTED_THRESHOLD=1)
    _report(app, "+8613912345678", "r1")
    assert check(app.test_client(), "13912345678")[1]["verdict"] == "reported"


def test_known_scam(app, client):
    svc = app.extensions["verify"]
    svc.store.redis.sadd(registry_of(app).known_scam_key(), "+8613912345678")
    _, body = check(client, "13912345678")
    assert body["verdict"] == "known_scam"
    assert "400-000-9518" in body["advice"]["en"]


def test_reports_never_make_our_number_look_worse_than_official(app, client):
    for reporter in ("a", "b", "c", "d"):
        _report(app, "+862160800000", reporter)
    _, body = check(client, "021-60800000")
    assert body["verdict"] == "official" and body["reports_30d"] == 4


@pytest.mark.parametrize(
    "query, message",
    [({}, "enter"), ({"number": ""}, "enter"), ({"number": "hello"}, "letters"), ({"number": "9" * 45}, "too long")],
)
def test_bad_numbers_are_explained(client, query, message):
    response = client.get("/api/v1/check", query_string=query)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["errors"][0]["field"] == "number"
    assert message in body["errors"][0]["message"]


def test_a_registry_change_reaches_every_process_copy(app, make_app, key):
    """Each process keeps a copy of the index; a change made elsewhere shows on the next check."""
    client = app.test_client()
    assert check(client, "021-6080-5555")[1]["verdict"] == "unknown"  # this copy is now warm
    other = registry_of(app).other_process
    other.add(CLI, {"number": "021-6080-5555", "labels": {"zh": "新", "en": "New"}, "purpose": "callback",
                    "direction": "outbound"})
    registry_of(app).cache.confirmed_at -= 1.0  # this copy is a second old
    assert check(client, "021-6080-5555")[1]["verdict"] == "official"
    other.retire(CLI, "021-6080-5555")
    registry_of(app).cache.confirmed_at -= 1.0
    assert check(client, "021-6080-5555")[1]["verdict"] == "retired"


# --- this process's copy of the registry ------------------------------------------------------------
NEW_NUMBER = {"number": "021-6080-7777", "labels": {"zh": "回访专线", "en": "Callback line"}, "purpose": "callback",
              "direction": "outbound"}


def test_checks_read_the_registry_version_once_a_second(app, client, monkeypatch):
    reads = version_reads(monkeypatch)
    for number in ("021-6080-0000", "13912345678", "0095188", "021-6080-0000"):
        assert check(client, number)[0] == 200
    assert len(reads) == 1
    registry = registry_of(app).cache
    registry.confirmed_at -= registry.FRESH_SECONDS  # a second later
    assert check(client, "021-6080-0000")[1]["verdict"] == "official"
    assert len(reads) == 2


def test_a_registry_change_made_here_shows_at_once(client, key):
    assert check(client, "021-6080-7777")[1]["verdict"] != "official"
    assert client.post("/api/v1/numbers", json=NEW_NUMBER, headers=key("registry")).status_code == 201
    assert check(client, "021-6080-7777")[1]["verdict"] == "official"


def test_a_registry_change_made_by_another_process_shows_within_a_second(app, client):
    from tests.conftest import in_child_process

    assert check(client, "021-6080-7777")[1]["verdict"] != "official"
    # Another process of the service adds the number.
    other = registry_of(app).other_process
    assert in_child_process(lambda: other.add(CLI, NEW_NUMBER)["number"]) == "+862160807777"
    assert check(client, "021-6080-7777")[1]["verdict"] != "official"  # this copy was confirmed just now
    cache = registry_of(app).cache
    cache.confirmed_at -= cache.FRESH_SECONDS  # this copy is a second old
    assert check(client, "021-6080-7777")[1]["verdict"] == "official"


def test_a_stale_copy_and_forgotten_scripts_still_give_verdicts(app, client):
    """The registry's version and the number's facts go in one pipeline when the copy is old; a Redis
    that lost its scripts (restart, SCRIPT FLUSH) is given them again on that path too."""
    registry = registry_of(app).cache
    assert check(client, "021-6080-0000")[1]["verdict"] == "official"
    app.extensions["verify"].store.redis.script_flush()
    registry.confirmed_at -= registry.FRESH_SECONDS
    assert check(client, "021-6080-0000")[1]["verdict"] == "official"
    assert client.post("/api/v1/reports", json={"number": "021-9999-8888"}).status_code == 201


# --- numbers as typed, and our fixed lines typed without their area code (issue 15 item 12) ---------
@pytest.mark.parametrize("typed, shown", [
    ("1021-6080-0000", "1021 6080 0000"),  # not reparsed into "010 216 080 0000"
    ("102160800000", "1021 6080 0000"),
    ("0755-6080-0000", "0755 6080 0000"),
    ("+86 21 6080 0000", "+86 21 6080 0000"),
    ("+862160800000", "+86 21 6080 0000"),
    ("13800138000", "138 0013 8000"),
    ("+44 20 7946 0958", "+44 20 7946 0958"),
    ("１３８－００１３－８０００", "138 0013 8000"),
    ("1 3 8 0 0 1 3 8 0 0 0", "138 0013 8000"),  # more groups than a number has: regrouped
])
def test_a_number_is_shown_as_typed_digits_grouped(client, typed, shown):
    assert check(client, typed)[1]["display"] == shown


@pytest.mark.parametrize("typed, number, verdict, shown", [
    ("6080 0000", "+862160800000", "official", "021 6080 0000"),
    ("60800000", "+862160800000", "official", "021 6080 0000"),
    ("６０８０－００００", "+862160800000", "official", "021 6080 0000"),
    ("6080 0099", "+862160800099", "official", "021 6080 0099"),  # a display variant's digits
    ("6080 1111", "+862160801111", "retired", "021 6080 1111"),
])
def test_the_local_digits_of_our_fixed_line_are_that_line(client, typed, number, verdict, shown):
    status, body = check(client, typed)
    assert status == 200 and body["verdict"] == verdict, body
    assert body["number"] == number and body["display"] == shown
    assert body["label"] is not None


@pytest.mark.parametrize("typed", ["0755-6080-0000", "0755 60800000", "010 6080 0000", "+852 6080 0000",
                                   "+86 755 6080 0000", "0 6080 0000", "86 6080 0000", "+86 6080 0000"])
def test_a_number_that_merely_carries_our_lines_local_digits_is_never_official(client, typed):
    """The scammer's angle: another city's line (or a prefix) ending in 6080 0000 imitates 021 6080 0000."""
    status, body = check(client, typed)
    assert status == 200 and body["verdict"] == "lookalike", body
    assert body["imitates"]["number"] == "+862160800000" and body["number"] != "+862160800000"


@pytest.mark.parametrize("typed", ["6080 000", "608 0000", "80 0000", "0000", "6080 00000", "16080 0000"])
def test_too_few_or_other_digits_are_no_line_of_ours(client, typed):
    status, body = check(client, typed)
    assert body is None or body.get("verdict") not in ("official", "retired", "inbound_only"), body


def test_local_digits_of_two_of_our_lines_ask_for_the_area_code(client, key):
    registry = key("registry")
    assert client.post("/api/v1/numbers", headers=registry, json={
        "number": "010-6080-0000", "labels": {"zh": "北京回访", "en": "Beijing callback"}, "purpose": "callback",
        "direction": "outbound"}).status_code == 201
    response = client.get("/api/v1/check", query_string={"number": "6080 0000"})
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    message = response.get_json()["errors"][0]["message"]
    assert "010 6080 0000" in message and "021 6080 0000" in message and "area code" in message
    assert check(client, "010 6080 0000")[1]["verdict"] == "official"
    assert check(client, "0755 6080 0000")[1]["verdict"] == "lookalike"
