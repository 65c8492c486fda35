"""Callback sessions and call verification through the API: codes, expiry, lockout, auth."""

import time

import pytest

from tests.conftest import registry_of
from verify import phones
from verify.services.actor import CLI

BORROWER = "13800138000"


def verify(client, code, phone=BORROWER, **extra):
    return client.post("/api/v1/verify", json={"phone": phone, "code": code, **extra})


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_open_session_returns_code_and_expiry(client, open_session):
    created = open_session()
    assert len(created["code"]) == 6 and created["code"].isdigit()
    assert created["expires_at"] > created["created_at"]


def test_genuine_shows_masked_details_never_the_code(client, open_session):
    created = open_session(loan_ref="L-1")
    response = verify(client, created["code"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "genuine"
    assert body["session"] == {
        "agent_name": "王**",
        "agent_id": "A17",
        "caller": "+862160800000",
        "caller_display": "021 6080 0000",
        "purpose": "贷后回访",
        "started_at": created["created_at"],
        "expires_at": created["expires_at"],
    }
    assert created["code"] not in response.get_data(as_text=True)


def test_any_form_of_the_phone_and_code_works(client, open_session):
    created = open_session()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in created["code"])
    assert verify(client, full_width, phone="+86 138-0013-8000").get_json()["verdict"] == "genuine"
    spaced = created["code"][:3] + " " + created["code"][3:]
    assert verify(client, spaced, phone="0086 13800138000").get_json()["verdict"] == "genuine"


def _not_verified_answer(response):
    return response.status_code, response.content_type, response.get_json()


def test_wrong_expired_and_no_session_look_identical(client, open_session):
    created = open_session(ttl_seconds=1)
    wrong_code = _not_verified_answer(verify(client, wrong(created["code"])))
    no_session = _not_verified_answer(verify(client, "123456", phone="13900000000"))
    time.sleep(1.1)
    expired = _not_verified_answer(verify(client, created["code"]))
    assert wrong_code == no_session == expired
    assert wrong_code[0] == 200 and wrong_code[2]["verdict"] == "not_verified"
    assert set(wrong_code[2]) == {"verdict", "advice"}


def test_a_session_lives_exactly_its_ttl(client, open_session, redis_server):
    """Measured on Redis's clock: the code works until ttl seconds after opening (± 50 ms), whatever
    the fraction of the second it was opened in (whole-second clocks cut up to a second off)."""
    clock = redis_server.client()

    def redis_now():
        seconds, micro = clock.time()
        return seconds + micro / 1e6

    for _ in range(3):
        opened_at = redis_now()
        created = open_session(ttl_seconds=1)
        while redis_now() < opened_at + 0.93:
            time.sleep(0.01)
        assert verify(client, created["code"]).get_json()["verdict"] == "genuine"
        while redis_now() < opened_at + 1.07:
            time.sleep(0.01)
        assert verify(client, created["code"]).get_json()["verdict"] == "not_verified"


def test_code_is_bound_to_the_borrower(client, open_session):
    created = open_session()
    open_session(borrower="13900000000")
    assert verify(client, created["code"], phone="13900000000").get_json()["verdict"] == "not_verified"


def test_caller_must_match_when_given(client, open_session):
    created = open_session()
    assert verify(client, created["code"], caller="021-6080-0099").get_json()["verdict"] == "genuine"
    assert verify(client, created["code"], caller="021-6080-0000").get_json()["verdict"] == "genuine"
    assert verify(client, created["code"], caller="021-9999-0000").get_json()["verdict"] == "not_verified"


@pytest.mark.parametrize("caller, verdict", [
    ("6080 0000", "genuine"), ("60800000", "genuine"), ("6080 0099", "genuine"),  # our line without its area code
    ("0755 6080 0000", "not_verified"), ("010-6080-0000", "not_verified"), ("+852 6080 0000", "not_verified"),
    ("6080 1111", "not_verified"),  # the digits of our retired line: not the session's
])
def test_a_caller_typed_without_its_area_code_is_our_line(client, open_session, caller, verdict):
    """The right code with our line's digits typed as the caller ID showed them is genuine, with the full
    number shown; another city's line ending in those digits never is."""
    created = open_session()
    body = verify(client, created["code"], caller=caller).get_json()
    assert body["verdict"] == verdict, body
    if verdict == "genuine":
        assert body["session"]["caller_display"] == "021 6080 0000"


def test_a_caller_that_could_be_several_of_our_lines_asks_for_the_area_code(client, key, open_session):
    assert client.post("/api/v1/numbers", headers=key("registry"), json={
        "number": "010-6080-0000", "labels": {"zh": "北京回访", "en": "Beijing callback"}, "purpose": "callback",
        "direction": "outbound"}).status_code == 201
    created = open_session()
    response = verify(client, created["code"], caller="6080 0000")
    assert response.status_code == 422 and "area code" in response.get_json()["errors"][0]["message"]
    assert verify(client, created["code"], caller="021 6080 0000").get_json()["verdict"] == "genuine"


def test_new_session_replaces_the_old_code(client, open_session):
    first = open_session()
    second = open_session()
    assert verify(client, first["code"]).get_json()["verdict"] == "not_verified"
    assert verify(client, second["code"]).get_json()["verdict"] == "genuine"


def test_ending_a_session_stops_its_code(client, open_session):
    created = open_session()
    response = client.delete(f"/api/v1/sessions/{created['id']}", headers=open_session.headers)
    assert response.status_code == 204
    assert verify(client, created["code"]).get_json()["verdict"] == "not_verified"
    again = client.delete(f"/api/v1/sessions/{created['id']}", headers=open_session.headers)
    assert again.status_code == 204
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).get_json()
    assert state["status"] == "ended" and state["ended_at"] is not None


def test_session_states_and_counts(client, open_session):
    created = open_session(loan_ref="LOAN-9")
    url = f"/api/v1/sessions/{created['id']}"
    state = client.get(url, headers=open_session.headers).get_json()
    assert state["status"] == "active" and state["loan_ref"] == "LOAN-9" and "borrower" not in state
    verify(client, wrong(created["code"]))
    verify(client, created["code"])
    state = client.get(url, headers=open_session.headers).get_json()
    assert (state["status"], state["successful_checks"], state["failed_checks"]) == ("confirmed", 1, 1)


def test_expired_state(client, open_session):
    created = open_session(ttl_seconds=1)
    time.sleep(2.1)
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).get_json()
    assert state["status"] == "expired"


def test_session_record_disappears_by_redis_ttl(app, open_session):
    open_session(ttl_seconds=30)
    stored = registry_of(app).sessions
    key = stored.session_key(stored.tag("+8613800138000"))
    assert 30 < stored.store.redis.ttl(key) <= 30 + 3600


@pytest.mark.parametrize("session_id", ["nope", "0" * 24 + "-00", "x" * 200, "../../etc"])
def test_unknown_session_is_404(client, open_session, session_id):
    response = client.get(f"/api/v1/sessions/{session_id}", headers=open_session.headers)
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    assert client.delete(f"/api/v1/sessions/{session_id}", headers=open_session.headers).status_code == 404


# --- lockout ------------------------------------------------------------------------------------
def test_five_wrong_codes_lock_the_web_and_api_across_clients(app, open_session):
    created = open_session()
    clients = [app.test_client() for _ in range(3)]
    for attempt in range(4):
        response = clients[attempt % 3].post(
            "/api/v1/verify",
            json={"phone": BORROWER, "code": wrong(created["code"])},
            environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"},
        )
        assert response.get_json()["verdict"] == "not_verified"
    response = verify(clients[1], wrong(created["code"]))  # the fifth wrong code, from yet another client
    assert response.status_code == 429 and response.get_json()["verdict"] == "locked"
    response = verify(clients[0], created["code"])  # even the right code is refused here now
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 900
    body = response.get_json()
    assert body["verdict"] == "locked" and "400-000-9518" in body["advice"]["en"]
    # The borrower is told the way that still works: their own phone.
    assert "own phone" in body["detail"] and "10690009518" in body["advice"]["en"] and "本人的手机" in body["advice"]["zh"]
    state = app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).get_json()
    assert state["status"] == "active" and state["locked_channels"] == ["web_api"]


def test_the_borrowers_own_phone_still_verifies_after_strangers_typed_wrong_codes(app, open_session):
    """Anyone can type any phone number on the web or the API: their wrong codes cannot stop the
    borrower texting the right code from their own phone, the one channel where the sender is the phone."""
    borrower = phones.normalise_mobile(BORROWER)
    created = open_session()
    for attempt in range(8):
        app.test_client().post("/api/v1/verify", json={"phone": BORROWER, "code": wrong(created["code"])},
                               environ_base={"REMOTE_ADDR": f"203.0.113.{attempt}"})
    calls = app.extensions["verify"].calls
    assert calls.verify(borrower, created["code"], channel="sms").verdict == "genuine"
    for _ in range(5):  # and the borrower's own wrong texts lock only their own channel
        calls.verify(borrower, wrong(created["code"]), channel="sms")
    answer = calls.verify(borrower, created["code"], channel="sms")
    assert answer.verdict == "locked" and answer.retry_after > 0
    state = app.test_client().get(f"/api/v1/sessions/{created['id']}", headers=open_session.headers).get_json()
    assert state["status"] == "locked" and state["locked_channels"] == ["sms", "web_api"]


def test_lockout_counts_attempts_without_a_session_too(client):
    for _ in range(5):
        verify(client, "123456", phone="13700000000")
    assert verify(client, "123456", phone="13700000000").status_code == 429
    assert verify(client, "123456", phone="13700000001").status_code == 200  # another borrower is unaffected


def test_lockout_window_is_configurable(make_app):
    # 2 wrong codes per 3 s over sessions of at most a minute: 80 guesses, within the 1 in 10,000 bound.
    app = make_app(VERIFY_MAX_FAILURES=2, VERIFY_LOCKOUT_SECONDS=3, VERIFY_SESSION_TTL=60, VERIFY_SESSION_TTL_MAX=60)
    client = app.test_client()
    verify(client, "123456")
    assert verify(client, "123456").status_code == 429
    time.sleep(3.1)
    assert verify(client, "123456").status_code == 200


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, field",
    [
        ({"code": "123456"}, "phone"),
        ({"phone": BORROWER}, "code"),
        ({"phone": BORROWER, "code": "12345"}, "code"),
        ({"phone": BORROWER, "code": "1234567"}, "code"),
        ({"phone": BORROWER, "code": "12a456"}, "code"),
        ({"phone": BORROWER, "code": ["123456"]}, "code"),
        ({"phone": "021-60800000", "code": "123456"}, "phone"),
        ({"phone": 13800138000, "code": "123456"}, "phone"),
        ({"phone": BORROWER, "code": "123456", "caller": "abc"}, "caller"),
        ({"phone": BORROWER, "code": "123456", "extra": 1}, "extra"),
    ],
)
def test_verify_validation(client, body, field):
    response = client.post("/api/v1/verify", json=body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]


def test_validation_errors_do_not_count_as_wrong_codes(client, open_session):
    created = open_session()
    for _ in range(6):
        client.post("/api/v1/verify", json={"phone": BORROWER, "code": "12"})
    assert verify(client, created["code"]).get_json()["verdict"] == "genuine"


GOOD = {"borrower": BORROWER, "caller": "021-6080-0000", "agent_id": "A1", "agent_name": "Li Wei", "purpose": "callback"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"borrower": None}, "borrower"),
        ({"borrower": "021-60800000"}, "borrower"),
        ({"caller": "400-000-9518"}, "caller"),  # inbound only
        ({"caller": "021-6080-1111"}, "caller"),  # retired
        ({"caller": "13900000000"}, "caller"),  # not ours
        ({"agent_id": ""}, "agent_id"),
        ({"agent_name": "x" * 33}, "agent_name"),
        ({"agent_id": "x" * 13}, "agent_id"),
        ({"agent_id": "工号7"}, "agent_id"),
        ({"purpose": 7}, "purpose"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 3601}, "ttl_seconds"),
        ({"ttl_seconds": "900"}, "ttl_seconds"),
        ({"ttl_seconds": True}, "ttl_seconds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_session_validation(client, key, change, field):
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    response = client.post("/api/v1/sessions", json=body, headers=key("sessions"))
    assert response.status_code == 422, response.get_json()
    assert field in [error["field"] for error in response.get_json()["errors"]]


def test_session_from_a_display_variant(client, key):
    response = client.post("/api/v1/sessions", json={**GOOD, "caller": "021-6080-0099"}, headers=key("sessions"))
    assert response.status_code == 201
    code = response.get_json()["code"]
    body = verify(client, code).get_json()
    assert body["session"]["caller"] == "+862160800099"


def test_code_is_stored_only_as_hmac_and_borrower_only_hashed(app, open_session):
    created = open_session()
    raw = app.extensions["verify"].store.redis
    dump = " ".join(k + str(raw.hgetall(k) if raw.type(k) == "hash" else raw.dump(k)) for k in raw.keys("*"))
    assert created["code"] not in dump
    assert "13800138000" not in dump and "8613800138000" not in dump


# --- authentication ------------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer vk_sessions_000000000000_nope", "Bearer " + "x" * 300])
def test_sessions_need_a_valid_key(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/sessions", json=GOOD, headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_scope_is_403(client, key):
    response = client.post("/api/v1/sessions", json=GOOD, headers=key("registry"))
    assert response.status_code == 403
    assert "sessions" in response.get_json()["detail"]


def test_revoked_key_stops_working(app, client):
    keys = app.extensions["verify"].keys
    token = keys.create(CLI, "cc", "sessions")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/sessions", json=GOOD, headers=headers).status_code == 201
    keys.revoke(CLI, "cc")
    assert client.post("/api/v1/sessions", json=GOOD, headers=headers).status_code == 401


def test_key_with_right_id_but_wrong_secret_is_refused(app, client):
    token = app.extensions["verify"].keys.create(CLI, "cc", "sessions")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.post("/api/v1/sessions", json=GOOD, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_sessions_started_and_ended_through_the_api_are_audited(app, client, open_session):
    created = open_session()
    client.delete(f"/api/v1/sessions/{created['id']}", headers=open_session.headers)
    entries = app.extensions["verify"].audit.entries()[0]
    actions = [(e["action"], e["target"]) for e in entries]
    assert ("session_start", created["id"]) in actions and ("session_end", created["id"]) in actions
    assert "13800138000" not in str(entries) and created["code"] not in str(entries)


# --- at most once: Idempotency-Key ---------------------------------------------------------------------
def test_a_retried_session_open_answers_the_first_session_and_its_code(app, client, open_session):
    """A call centre that timed out and retries with the same Idempotency-Key gets the session it opened
    (the code its agent may already have read out keeps working); nothing is opened, sent or audited twice."""
    body = {"borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明",
            "purpose": "贷后回访"}
    headers = {**open_session.headers, "Idempotency-Key": "call-7731"}
    first = client.post("/api/v1/sessions", json=body, headers=headers)
    again = client.post("/api/v1/sessions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert verify(client, first.get_json()["code"]).get_json()["verdict"] == "genuine"
    starts = app.extensions["verify"].audit.entries(action="session_start")[0]
    assert [e["target"] for e in starts] == [first.get_json()["id"]]
    reused = client.post("/api/v1/sessions", json={**body, "purpose": "另一个"}, headers=headers)
    assert reused.status_code == 422 and "different request" in str(reused.get_json())
    assert verify(client, first.get_json()["code"]).get_json()["verdict"] == "genuine"  # still the live one
    fresh = client.post("/api/v1/sessions", json=body, headers={**open_session.headers, "Idempotency-Key": "call-7732"})
    assert fresh.status_code == 201 and fresh.get_json()["id"] != first.get_json()["id"]
    store = app.extensions["verify"].store
    kept = [store.redis.ttl(key) for key in store.redis.scan_iter(f"{store.prefix}*:once:*")]
    assert len(kept) == 2 and all(0 < seconds <= 900 + 3600 for seconds in kept)  # the default ttl and an hour


def test_a_call_centre_retrying_from_another_address_gets_its_first_session(client, open_session):
    """The Idempotency-Key belongs to the API key: a retry that leaves by another outgoing address
    (a second proxy, a fail-over link) answers the first session, whose code the agent may have read out."""
    body = {"borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明",
            "purpose": "贷后回访"}
    headers = {**open_session.headers, "Idempotency-Key": "call-8800"}
    first = client.post("/api/v1/sessions", json=body, headers=headers)
    again = client.post("/api/v1/sessions", json=body, headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert verify(client, first.get_json()["code"]).get_json()["verdict"] == "genuine"
