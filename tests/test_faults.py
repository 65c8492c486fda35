"""Faults injected into a real redis-server: stopped (SIGSTOP), killed (kill -9) and restarted, out of
memory, a read-only replica. Under load through the production server (granian, as ``make serve``
runs it) or, where one request shows it, through the app itself. Whatever Redis does: never
``genuine`` without a session and its code, every answer within 2 s, nothing acknowledged lost,
nothing half-written.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import TEST_SETTINGS
from tests.redis_process import RedisProcess
from tests.test_soak import _cli, _environment, _free_port, _json, _request, _server, private_tmp, serve_command  # noqa: F401
from verify import create_app

HOST = "127.0.0.1"
BORROWER = "13800138000"
OFFICIAL = "021-6080-0000"
CLIENTS = 32


@pytest.fixture
def production(tmp_path, private_tmp):  # noqa: F811 (the fixture of test_soak)
    """A private redis-server with verify's production settings, seeded, and granian serving verify on it
    with production settings as ``make serve`` runs it: ``(port, liveness port, redis server, sessions key)``."""
    redis_server = RedisProcess(tmp_path / "redis").start()
    try:
        env = _environment(REDIS_URL=redis_server.url, VERIFY_ENV="production",
                           VERIFY_INSTANCE_PATH=str(tmp_path / "instance"), TMPDIR=private_tmp)
        _cli(env, "seed-demo")
        key = _cli(env, "keys", "create", "--scope", "sessions", "--name", "faults", "--quiet").strip().splitlines()[-1]
        port, health_port = _free_port(), _free_port()
        cmd, assigned = serve_command(port, health_port)
        with _server(cmd, {**env, **assigned}, tmp_path / "granian.log", port):
            yield port, health_port, redis_server, key
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
        redis_server.stop()


def _open_session(port, key):
    status, body, _ = _json(port, "POST", "/api/v1/sessions", {
        "borrower": BORROWER, "caller": OFFICIAL, "agent_id": "A17", "agent_name": "王小明", "purpose": "贷后回访",
        "ttl_seconds": 600}, {"Authorization": f"Bearer {key}"})
    assert status == 201, body
    return body["code"], body["id"]


class Load:
    """``CLIENTS`` threads sending checks, right and wrong codes and reports until stopped; every answer
    kept with when it was asked and how long it took."""

    def __init__(self, port, code, session_id):
        self.port, self.code, self.session_id = port, code, session_id
        self.wrong = "000000" if code != "000000" else "111111"
        self.answers = []  # (kind, started, seconds, status, verdict or report id)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._wrong_for = 0

    def _one(self, kind):
        started = time.monotonic()
        if kind == "check":
            status, body, _ = _json(self.port, "GET", f"/api/v1/check?number={OFFICIAL}")
        elif kind == "report":
            status, body, _ = _json(self.port, "POST", "/api/v1/reports", {"number": "021-5555-1234", "text": "faults"})
        elif kind == "right":
            status, body, _ = _json(self.port, "POST", "/api/v1/verify", {"phone": BORROWER, "code": self.code})
        else:  # a wrong code, each time for another borrower (one borrower would be locked out at once)
            with self._lock:
                self._wrong_for += 1
            phone = f"139{self._wrong_for:08d}"
            status, body, _ = _json(self.port, "POST", "/api/v1/verify", {"phone": phone, "code": self.wrong})
        found = (body or {}).get("verdict") or (body or {}).get("id")
        with self._lock:
            self.answers.append((kind, started, time.monotonic() - started, status, found))

    def _client(self, number):
        kinds = ("check", "right", "wrong", "report")
        turn = number
        while not self.stop.is_set():
            self._one(kinds[turn % len(kinds)])
            turn += 1

    def run(self, during):
        """Load while ``during()`` runs; returns its result."""
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(self._client, n) for n in range(CLIENTS)]
            try:
                return during()
            finally:
                self.stop.set()
                for future in futures:
                    future.result()


PROBE = """
import http.client, sys, time
port = int(sys.argv[1])
while not sys.stdin.readline().startswith("stop"):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/healthz", headers={"Connection": "close"})
    status = conn.getresponse().status
    conn.close()
    print(started, time.monotonic() - started, status, flush=True)
"""


class Probe:
    """/healthz asked every 50 ms from a process of its own, as a liveness probe (kubelet, systemd) would:
    a thread beside the 32 clients would measure their fight for this process's GIL, not the service."""

    def __init__(self, port):
        self.port, self.times = port, []
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        probe = subprocess.Popen([sys.executable, "-c", PROBE, str(self.port)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            while not self.stop.wait(0.05):
                probe.stdin.write("go\n")
                probe.stdin.flush()
                started, seconds, status = probe.stdout.readline().split()
                self.times.append((float(started), float(seconds), int(status)))
        finally:
            probe.communicate("stop\n", timeout=10)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self._thread.join()


def _spread(times):
    seconds = sorted(seconds for _started, seconds, _status in times)
    return (f"{len(seconds)} probes, median {seconds[len(seconds) // 2] * 1000:.1f} ms, "
            f"95th {seconds[int(len(seconds) * 0.95)] * 1000:.1f} ms, slowest {seconds[-1] * 1000:.1f} ms")


def _first_ok_after(port, moment, within):
    while time.monotonic() < moment + within:
        if _json(port, "GET", f"/api/v1/check?number={OFFICIAL}")[0] == 200:
            return time.monotonic() - moment
        time.sleep(0.02)
    return None


@pytest.mark.slow
def test_a_stopped_redis_under_32_clients_answers_unavailable_within_2_s_and_recovers(production):
    port, health_port, redis_server, key = production
    load = Load(port, *_open_session(port, key))
    moments = {}

    def fault():
        time.sleep(2)
        moments["stop"] = time.monotonic()
        os.kill(redis_server.proc.pid, signal.SIGSTOP)
        time.sleep(10)
        os.kill(redis_server.proc.pid, signal.SIGCONT)
        moments["cont"] = time.monotonic()
        recovered = _first_ok_after(port, moments["cont"], within=5)
        time.sleep(3)
        return recovered

    with Probe(port) as probe, Probe(health_port) as liveness:
        recovered = load.run(fault)
    stop, cont = moments["stop"], moments["cont"]
    slowest = max(seconds for _kind, _started, seconds, _status, _found in load.answers)
    during = Counter(status for _kind, started, seconds, status, _found in load.answers
                     if started > stop + 0.5 and started + seconds < cont)
    late = [(kind, status) for kind, started, _seconds, status, _found in load.answers if started > cont + 2]
    probes = sorted(seconds for _started, seconds, _status in probe.times)
    print(f"\n{len(load.answers)} answers, slowest {slowest:.3f} s; while stopped: {dict(during)}; "
          f"recovered {recovered:.2f} s after SIGCONT; /healthz: {len(probes)} probes, "
          f"median {probes[len(probes) // 2] * 1000:.1f} ms, slowest {probes[-1] * 1000:.1f} ms; "
          f"liveness /healthz: {_spread(liveness.times)}")
    assert slowest < 2
    assert set(during) == {503} and sum(during.values()) > 1000
    assert recovered is not None and recovered < 2
    assert late and all(status in (200, 201) for _kind, status in late), Counter(late)
    assert not [a for a in load.answers if a[0] == "wrong" and a[4] == "genuine"]
    assert all(status == 200 for _started, _seconds, status in probe.times)
    # Commands waiting in their sockets when Redis stopped ran when it woke, past their deadline: they
    # did nothing. The one script Redis may have been running at the instant it stopped had passed its
    # deadline check: it finishes on SIGCONT, after its client gave up (at most one: Redis runs one at
    # a time). Everything else stored was acknowledged, and nothing else answered 503 counted.
    acknowledged = {found for kind, _s, _t, status, found in load.answers if kind == "report" and status == 201}
    with redis_server.client() as client:
        stored = set(client.zrange("verify:{reports}:by-time", 0, -1))
    assert acknowledged <= stored and len(stored - acknowledged) <= 1, len(stored - acknowledged)
    state = _json(port, "GET", f"/api/v1/sessions/{load.session_id}", headers={"Authorization": f"Bearer {key}"})[1]
    genuine = sum(1 for kind, *_rest, found in load.answers if kind == "right" and found == "genuine")
    assert 0 <= state["successful_checks"] - genuine <= 1, (state, genuine)
    assert len(stored - acknowledged) + state["successful_checks"] - genuine <= 1
    assert liveness.times and all(status == 200 for _started, _seconds, status in liveness.times)
    # The liveness listener (make serve's VERIFY_HEALTH_ADDRESS) never waits behind Redis work: a
    # thread of each worker that does none answers every probe within 100 ms, in the stall's first
    # quarter of a second too, where the app's own /healthz may wait for a worker's Redis timeout
    # (below). Elsewhere a probe now and then waits for a CPU of this 2-core machine (32 clients, two
    # workers, Redis and two probes share it; 30-140 ms in about 1 of 40, at any moment of the run):
    # the median and 95th percentile hold the line, the slowest gets that room.
    assert [seconds for started, seconds, _status in liveness.times if stop - 0.1 <= started < stop + 0.25]
    assert all(seconds < 0.1 for started, seconds, _status in liveness.times if stop - 0.1 <= started < stop + 0.25), \
        _spread(liveness.times)
    alive = sorted(seconds for _started, seconds, _status in liveness.times)
    assert alive[len(alive) // 2] < 0.02 and alive[int(len(alive) * 0.95)] < 0.05 and alive[-1] < 0.3, _spread(liveness.times)
    # The app's own /healthz (for the load balancer) never waits behind Redis work but in one window:
    # a probe that reaches a worker in the first timeout (0.25 s) of the stall (or was on its way when it began), when its thread is already
    # inside a Redis call that cannot know yet that Redis stopped, waits for that call to time out.
    # Every other probe is answered within 100 ms, before, during and after the stall.
    window = [seconds for started, seconds, _status in probe.times if stop - 0.1 <= started < stop + 0.25]
    outside = [seconds for started, seconds, _status in probe.times if not stop - 0.1 <= started < stop + 0.25]
    # Measured alone: every one of them within 45 ms. On a machine other work shares (2 cores, or the
    # cluster suite's six redis-servers beside) one now and then waits 0.1-0.2 s for a CPU, not for
    # Redis: the median and 95th percentile hold the line, the slowest gets that room.
    outside.sort()
    assert outside[len(outside) // 2] < 0.05 and outside[int(len(outside) * 0.95)] < 0.1, outside[-5:]
    assert outside[-1] < 0.3, outside[-5:]
    assert max(window, default=0) < 0.25 + 0.1, window


@pytest.mark.slow
def test_redis_killed_under_report_load_loses_no_acknowledged_report(production):
    """kill -9 while reports are filed (AOF, fsync every second): every report acknowledged with 201 is
    there after the restart, none twice; while Redis is gone the answer is 503, at once."""
    port, _health_port, redis_server, key = production
    load = Load(port, *_open_session(port, key))

    def fault():
        time.sleep(2)
        redis_server.proc.kill()
        redis_server.proc.wait(5)
        time.sleep(2)
        redis_server.start()
        moment = time.monotonic()
        recovered = _first_ok_after(port, moment, within=5)
        time.sleep(1)
        return recovered

    recovered = load.run(fault)
    acknowledged = {found for kind, _s, _t, status, found in load.answers if kind == "report" and status == 201}
    with redis_server.client() as client:
        stored = set(client.zrange("verify:{reports}:by-time", 0, -1))
    statuses = Counter(status for *_rest, status, _found in load.answers)
    print(f"\nreports acknowledged {len(acknowledged)}, stored {len(stored)}; answers {dict(statuses)}; "
          f"recovered {recovered:.2f} s after the restart")
    assert acknowledged and acknowledged <= stored
    assert set(statuses) <= {200, 201, 503}
    assert max(seconds for _k, _s, seconds, _st, _f in load.answers) < 2
    assert recovered is not None and recovered < 2


@pytest.mark.slow
@pytest.mark.parametrize("refusal", ["out_of_memory", "read_only"])
def test_redis_refusing_writes_under_load_answers_unavailable_and_loses_nothing(production, refusal):
    """Out of memory or a read-only replica for 3 s under 32 clients: answers are right or 503 (never a
    500, never genuine for a wrong code), within 2 s; nothing the clients were not told about is stored;
    the right code's successes are exactly the genuine answers; everything works again at once."""
    port, _health_port, redis_server, key = production
    load = Load(port, *_open_session(port, key))
    admin = redis_server.client()

    def fault():
        time.sleep(1.5)
        admin.config_set("maxmemory", 1) if refusal == "out_of_memory" else admin.replicaof("127.0.0.1", 1)
        ready = _request(port, "GET", "/readyz")[0]
        time.sleep(3)
        admin.config_set("maxmemory", 0) if refusal == "out_of_memory" else admin.replicaof("no", "one")
        moment = time.monotonic()
        recovered = _first_ok_after(port, moment, within=5)
        time.sleep(1.5)
        return ready, recovered

    ready, recovered = load.run(fault)
    statuses = Counter((kind, status) for kind, _s, _t, status, _f in load.answers)
    print(f"\n{refusal}: {len(load.answers)} answers {dict(statuses)}; readyz {ready}; recovered {recovered:.2f} s")
    assert ready == 503 and recovered is not None and recovered < 1
    assert {status for _kind, status in statuses} <= {200, 201, 503} and statuses[("check", 503)] > 0
    assert max(seconds for _k, _s, seconds, _st, _f in load.answers) < 2
    assert not [a for a in load.answers if a[0] == "wrong" and a[4] == "genuine"]
    acknowledged = {found for kind, _s, _t, status, found in load.answers if kind == "report" and status == 201}
    assert set(admin.zrange("verify:{reports}:by-time", 0, -1)) == acknowledged
    state = _json(port, "GET", f"/api/v1/sessions/{load.session_id}", headers={"Authorization": f"Bearer {key}"})[1]
    assert state["successful_checks"] == sum(1 for kind, *_r, found in load.answers if kind == "right" and found == "genuine")


# --- Redis refusing writes: one request shows it -----------------------------------------------------
@pytest.fixture
def app_on_private(tmp_path):
    server = RedisProcess(tmp_path / "private").start()
    app = create_app({**TEST_SETTINGS, "VERIFY_INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": server.url})
    from verify.services import demo

    demo.seed(app.extensions["verify"], logins=False)
    yield app, server
    server.stop()


def _api_open(client, headers, purpose="贷后回访"):
    return client.post("/api/v1/sessions", headers=headers, json={
        "borrower": BORROWER, "caller": OFFICIAL, "agent_id": "A17", "agent_name": "王小明", "purpose": purpose})


def _session_starts(app):
    return [e for e in app.extensions["verify"].audit.entries(limit=1000)[0] if e["action"] == "session_start"]


@pytest.mark.parametrize("refusal", ["out_of_memory", "read_only"])
def test_a_refused_write_changes_nothing_and_readyz_says_so(app_on_private, refusal):
    """Out of memory (noeviction) or a read-only replica: opening a session over the borrower's live one
    answers 503 and leaves the live one, and its code, as they were; no audit entry, no report stored;
    /readyz is 503 while it lasts. Afterwards everything works again without a restart."""
    app, server = app_on_private
    client = app.test_client()
    from verify.services.actor import CLI

    headers = {"Authorization": "Bearer " + app.extensions["verify"].keys.create(CLI, "faults", "sessions")}
    live = _api_open(client, headers).get_json()
    reports_before = len(server.client().zrange("verify:{reports}:by-time", 0, -1))
    admin = server.client()
    if refusal == "out_of_memory":
        admin.config_set("maxmemory", 1)
    else:
        admin.replicaof("127.0.0.1", 1)  # a primary that does not exist: the data stays, writes are refused
    try:
        assert client.get("/readyz").status_code == 503
        assert "refuses writes" in client.get("/readyz").get_json()["problems"][0]
        assert _api_open(client, headers).status_code == 503
        assert client.post("/api/v1/reports", json={"number": "021-5555-1234"}).status_code == 503
    finally:
        admin.config_set("maxmemory", 0)
        admin.replicaof("no", "one")
    assert client.get("/readyz").status_code == 200
    verdict = client.post("/api/v1/verify", json={"phone": BORROWER, "code": live["code"]}).get_json()["verdict"]
    assert verdict == "genuine"
    assert [e["target"] for e in _session_starts(app)] == [live["id"]]
    assert len(server.client().zrange("verify:{reports}:by-time", 0, -1)) == reports_before


def test_a_refused_review_changes_nothing_and_audits_nothing(app_on_private):
    """A review change and its audit entries are one transaction: refused whole when Redis is out of
    memory, made whole (one entry per change) when it is back."""
    app, server = app_on_private
    client = app.test_client()
    from verify.services.actor import CLI

    headers = {"Authorization": "Bearer " + app.extensions["verify"].keys.create(CLI, "review", "reports")}
    report = client.post("/api/v1/reports", json={"number": "021-5555-1234"}).get_json()["id"]
    audited = lambda: [e["action"] for e in app.extensions["verify"].audit.entries(limit=1000)[0]  # noqa: E731
                       if e["target"] == report]
    change = {"status": "reviewing", "assignee": "li", "note": "called back"}
    server.client().config_set("maxmemory", 1)
    try:
        assert client.patch(f"/api/v1/reports/{report}", json=change, headers=headers).status_code == 503
    finally:
        server.client().config_set("maxmemory", 0)
    stored = client.get(f"/api/v1/reports/{report}", headers=headers).get_json()
    assert (stored["status"], stored["assignee"], stored["notes"], audited()) == ("new", "", [], [])
    assert client.patch(f"/api/v1/reports/{report}", json=change, headers=headers).status_code == 200
    assert sorted(audited()) == ["report_assign", "report_note", "report_status"]


def test_a_refused_registry_change_changes_nothing_and_audits_nothing(app_on_private):
    app, server = app_on_private
    client = app.test_client()
    from verify.services.actor import CLI

    headers = {"Authorization": "Bearer " + app.extensions["verify"].keys.create(CLI, "registry", "registry")}
    entry = {"number": "021-6080-7777", "labels": {"zh": "回访专线", "en": "Callback line"}, "purpose": "callback",
             "direction": "outbound"}
    audited = lambda: [e["action"] for e in app.extensions["verify"].audit.entries(limit=1000)[0]  # noqa: E731
                       if e["action"].startswith("registry_")]
    before = audited()
    server.client().config_set("maxmemory", 1)
    try:
        assert client.post("/api/v1/numbers", json=entry, headers=headers).status_code == 503
    finally:
        server.client().config_set("maxmemory", 0)
    assert client.get("/api/v1/numbers/+862160807777", headers=headers).status_code == 404
    assert audited() == before
    assert client.post("/api/v1/numbers", json=entry, headers=headers).status_code == 201
    assert audited() == ["registry_add", *before]
