"""Scaling out (README, Scaling out): REDIS_URL's forms for one server, a Redis Cluster and Sentinel,
and what must hold on every one of them."""

import os
import time

import pytest
import redis

from verify import create_app
from verify.registry import address
from verify.registry.store import connect
from verify.services.actor import CLI
from verify.settings import ConfigError


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6379/0", {"kind": "single", "tls": False}),
    ("rediss://:pw@redis.internal:6380/0", {"kind": "single", "tls": True}),
    ("unix:///run/redis.sock", {"kind": "single"}),
    ("redis+cluster://10.0.0.1:7000,10.0.0.2:7001", {"kind": "cluster", "nodes": (("10.0.0.1", 7000), ("10.0.0.2", 7001))}),
    ("redis+cluster://10.0.0.1:7000/0", {"kind": "cluster", "nodes": (("10.0.0.1", 7000),)}),
    ("rediss+cluster://app:s%40cret@[::1]:7000,h:7001?ssl_ca_certs=/etc/ca.pem",
     {"kind": "cluster", "tls": True, "username": "app", "password": "s@cret", "nodes": (("::1", 7000), ("h", 7001)),
          "tls_options": {"ssl_ca_certs": "/etc/ca.pem"}}),
    ("redis+sentinel://s1:26379,s2:26379,s3:26379/verify",
     {"kind": "sentinel", "service": "verify", "db": 0, "nodes": (("s1", 26379), ("s2", 26379), ("s3", 26379))}),
    ("rediss+sentinel://:pw@s1:26379/verify/2?sentinel_password=spw&ssl_cert_reqs=none",
     {"kind": "sentinel", "service": "verify", "db": 2, "password": "pw", "sentinel_password": "spw", "tls": True,
          "tls_options": {"ssl_cert_reqs": "none"}}),
])
def test_redis_urls_are_read_with_their_parts(url, expected):
    found = address.parse(url)
    assert {name: getattr(found, name) for name in expected} == expected


@pytest.mark.parametrize(("url", "says"), [
    ("memcached://h:1", "must start with"),
    ("redis+cluster://h", "not host:port"),
    ("redis+cluster://h:99999", "not host:port"),
    ("redis+cluster://h:7000,:7001", "not host:port"),
    ("redis+cluster://h:7000/3", "only database 0"),
    ("redis+sentinel://h:26379", "service's name"),
    ("redis+sentinel://h:26379/verify/x", "service's name"),
    ("redis+cluster://h:7000?ssl_cert_reqs=maybe", "ssl_cert_reqs"),
    ("redis+cluster://h:7000?retries=3", "options verify does not know"),
])
def test_malformed_redis_urls_are_refused_by_name(url, says):
    with pytest.raises(ValueError, match=says):
        address.parse(url)


def test_a_malformed_url_stops_the_app_with_one_line_not_a_password(tmp_path):
    with pytest.raises(ConfigError, match="not host:port") as refused:
        create_app({"REDIS_URL": "redis+cluster://:hunter2@nohost", "VERIFY_INSTANCE_PATH": str(tmp_path)})
    assert "hunter2" not in str(refused.value)


def test_sentinel_urls_give_a_client_of_the_named_primary_with_short_timeouts_and_no_retries():
    client = connect("rediss+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/verify/1?sentinel_password=spw", timeout=0.2)
    pool = client.connection_pool
    assert pool.service_name == "verify" and pool.connection_kwargs["db"] == 1
    assert pool.connection_kwargs["password"] == "pw" and pool.connection_kwargs["socket_timeout"] == 0.2
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [1, 2]
    assert all(s.connection_pool.connection_kwargs["password"] == "spw" for s in sentinels)
    assert all("SSL" in s.connection_pool.connection_class.__name__ for s in [*sentinels, client])
    assert client.get_retry().get_retries() == 0


def test_an_app_on_a_cluster_that_does_not_answer_starts_and_answers_unavailable(make_app):
    app = make_app(REDIS_URL="redis+cluster://127.0.0.1:1,127.0.0.1:2", VERIFY_REDIS_TIMEOUT=0.1)
    answer = app.test_client().get("/api/v1/check?number=95188")
    assert answer.status_code == 503 and answer.get_json()["verdict"] == "unavailable"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["status"] == "unavailable"


if os.environ.get("TEST_REDIS") == "cluster":
    # What only a cluster can show (collected with TEST_REDIS=cluster, `make test-cluster`).

    def _logged(svc, action):
        return list(svc.audit.entries(action=action)[0])

    def test_a_session_and_its_audit_entry_in_other_slots_are_both_written(app, open_session, redis_server):
        """The session is under the borrower's tag, the audit stream under {audit}: the entry goes to an
        outbox in the session's slot in the same script, and on to the stream at once."""
        svc = app.extensions["verify"]
        created = open_session()
        tag = created["id"].partition("-")[0]
        assert svc.store.slot(svc.store.key(tag, "s")) != svc.store.slot(svc.store.key("audit", "log"))
        assert [entry["target"] for entry in _logged(svc, "session_start")] == [created["id"]]
        assert not [key for key in redis_server.keys("*") if "audit-outbox" in key]  # neither outboxes nor markers left
        assert not svc.store.redis.zcard(svc.store.key("audit", "outboxes"))

    def test_an_audit_entry_whose_relay_failed_is_relayed_once_by_the_sweep(app, open_session, monkeypatch):
        """The process dies between the work and the relay: the entry waits in its outbox (the
        session and its entry were still written together) and the next read of the trail relays it,
        once, however often the trail is read."""
        from verify.registry import audit

        svc = app.extensions["verify"]
        monkeypatch.setattr(audit.Relay, "deliver", lambda relay, outbox, token: None)
        created = open_session()
        assert _logged(svc, "session_start") == []  # not relayed, and not yet stranded long enough
        tag = created["id"].partition("-")[0]
        assert svc.store.redis.xlen(svc.store.key(tag, "audit-outbox")) == 1
        monkeypatch.undo()
        monkeypatch.setattr(audit, "STRANDED_SECONDS", 0)
        assert [entry["target"] for entry in _logged(svc, "session_start")] == [created["id"]]
        assert [entry["target"] for entry in _logged(svc, "session_start")] == [created["id"]]
        assert svc.store.redis.xlen(svc.store.key(tag, "audit-outbox")) == 0

    def test_a_sweep_relays_a_bounded_number_of_outboxes_each_time(app, open_session, monkeypatch):
        """After a long outage of {audit}'s primary many outboxes wait: one read of the trail relays the
        oldest few (SWEEP_MOST), the next reads the rest."""
        from verify.registry import audit

        svc = app.extensions["verify"]
        monkeypatch.setattr(audit.Relay, "deliver", lambda relay, outbox, token: None)
        opened = [open_session(borrower=f"1380013800{n}")["id"] for n in range(3)]
        monkeypatch.undo()
        monkeypatch.setattr(audit, "STRANDED_SECONDS", 0)
        relay = svc.store.script("audit_append").relay
        relay.relay_stranded(most=2)
        assert svc.store.redis.zcard(svc.store.key("audit", "outboxes")) == 1
        relay.relay_stranded(most=2)
        assert sorted(entry["target"] for entry in _logged(svc, "session_start")) == sorted(opened)
        assert svc.store.redis.zcard(svc.store.key("audit", "outboxes")) == 0

    def test_a_relay_repeated_after_a_crash_writes_the_entry_once(app, open_session, monkeypatch):
        """Relayed, then the process died before deleting it from the outbox: relaying again adds nothing."""
        from verify.registry import audit

        svc = app.extensions["verify"]
        monkeypatch.setattr(audit.Relay, "deliver", lambda relay, outbox, token: None)
        created = open_session()
        monkeypatch.undo()
        tag = created["id"].partition("-")[0]
        outbox = svc.store.key(tag, "audit-outbox")
        relay = svc.store.script("audit_append").relay
        def fails(keys, args):
            raise redis.ResponseError("the relay stopped before deleting the entry from its outbox")

        monkeypatch.setattr(relay, "_drop", fails)
        relay.deliver(outbox, "0")
        assert svc.store.redis.xlen(outbox) == 1
        assert [entry["target"] for entry in svc.audit.entries(action="session_start")[0]] == [created["id"]]
        monkeypatch.undo()
        relay.deliver(outbox, "0")
        assert [entry["target"] for entry in _logged(svc, "session_start")] == [created["id"]]
        assert not svc.store.redis.exists(outbox)

    def test_registry_and_review_changes_are_audited_on_a_cluster(app, client, key):
        """A registry change (a WATCH transaction under {registry}) and its audit entry, in the same MULTI."""
        from tests.test_registry_api import NEW

        assert client.post("/api/v1/numbers", json=NEW, headers=key("registry")).status_code == 201
        targets = [entry["target"] for entry in _logged(app.extensions["verify"], "registry_add")]
        assert targets.count("+862160802222") == 1

    def test_deadlines_are_taken_from_the_primary_whose_clock_is_furthest_behind(app, monkeypatch):
        """Each primary checks a script's deadline against its own clock: a deadline taken from a clock
        that is ahead would let a script run on a primary that is behind after its client gave up."""
        store = app.extensions["verify"].store
        real = store.redis.time
        behind = next(node for node in store.redis.get_primaries() if node != store.redis.get_default_node())

        def skewed(**route):
            seconds, micro = real(**route)
            return (seconds - 5, micro) if route.get("target_nodes") == behind else (seconds, micro)

        monkeypatch.setattr(store.redis, "time", skewed)
        assert store.unusable() is None
        assert -5.1 < store.clock_offset < -4.9

    def test_readiness_covers_every_primary(app, client, redis_server):
        """One primary of three without its append-only file: /readyz names it."""
        node = redis_server.primaries()[-1]
        with node.client() as raw:
            raw.config_set("appendonly", "no")
            try:
                ready = client.get("/readyz").get_json()
            finally:
                raw.config_set("appendonly", "yes")
        assert ready["status"] == "unsafe" and any(f":{node.port}: appendonly" in problem for problem in ready["problems"])
        assert client.get("/readyz").get_json()["status"] == "ok"


if os.environ.get("TEST_REDIS") in ("cluster", "sentinel"):
    # Many app instances on one store (collected with `make test-cluster` and `make test-sentinel`).

    def test_two_app_processes_see_each_others_registry_changes_within_a_second(redis_server, make_app, tmp_path):
        """Two `flask run` processes on the suite's cluster (or Sentinel): a number registered through
        one is official on the other within a second (its copy of the registry is re-read at most a
        second after it was last confirmed); nothing a worker keeps in memory decides it."""
        import json
        import urllib.request

        from tests.test_registry_api import NEW
        from tests.test_soak import _environment, _free_port, _server, _tool

        app = make_app()  # the store is empty: make the registry key the two processes will accept
        headers = {"Authorization": "Bearer " + app.extensions["verify"].keys.create(CLI, "two-processes", "registry"),
                   "Content-Type": "application/json"}
        env = _environment(REDIS_URL=redis_server.url, VERIFY_INSTANCE_PATH=str(tmp_path / "instance"))

        def ask(port, path, body=None):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers, method="POST" if body else "GET",
                                             data=json.dumps(body).encode() if body else None)
            with urllib.request.urlopen(request, timeout=5) as answer:
                return json.loads(answer.read())

        first, second = _free_port(), _free_port()
        run = [*_tool("flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port"]
        with _server([*run, str(first)], env, tmp_path / "first.log", first), \
             _server([*run, str(second)], env, tmp_path / "second.log", second):
            assert ask(second, "/api/v1/check?number=021-6080-2222")["verdict"] == "unknown"  # its copy is current
            ask(first, "/api/v1/numbers", NEW)
            changed, verdicts = time.monotonic(), []
            while time.monotonic() - changed < 3:
                verdicts.append(ask(second, "/api/v1/check?number=021-6080-2222")["verdict"])
                if verdicts[-1] == "official":
                    break
            seen = time.monotonic() - changed
        print(f"\nthe other process saw the change after {seen:.2f} s ({len(verdicts)} checks)")
        assert verdicts[-1] == "official" and seen < 1.5  # a second, and one check's own time under load


if os.environ.get("TEST_REDIS") in ("cluster", "sentinel"):

    @pytest.fixture
    def private_store(tmp_path):
        """A cluster (cluster-node-timeout 2 s) or a Sentinel set (down-after 1 s) of this test's own,
        as TEST_REDIS says, for faults the suite's own must not see."""
        from tests.redis_process import RedisClusterProcess, RedisSentinelProcess

        kind = RedisClusterProcess if os.environ["TEST_REDIS"] == "cluster" else RedisSentinelProcess
        servers = kind(tmp_path / "redis").start()
        yield servers
        servers.stop()

    @pytest.fixture
    def secure_store(tmp_path):
        """A cluster or a Sentinel set (as TEST_REDIS says) of this test's own, over TLS with a password."""
        from tests.redis_process import RedisClusterProcess, RedisSentinelProcess

        kind = RedisClusterProcess if os.environ["TEST_REDIS"] == "cluster" else RedisSentinelProcess
        servers = kind(tmp_path / "redis", secure=True).start()
        yield servers
        servers.stop()

    def test_tls_and_a_password_work_on_a_cluster_and_on_sentinel(secure_store, make_app):
        """rediss+cluster:// and rediss+sentinel:// with a password and the CA: a session opened and its code
        confirmed, /readyz ok; a wrong password answers unavailable (and never shows in the answer)."""
        from verify.services import demo

        app = make_app(REDIS_URL=secure_store.url)
        demo.seed(app.extensions["verify"], logins=False)
        client, token = app.test_client(), app.extensions["verify"].keys.create(CLI, "tls", "sessions")
        opened = client.post("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}, json={
            "borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明",
            "purpose": "贷后回访"}).get_json()
        answer = client.post("/api/v1/verify", json={"phone": "13800138000", "code": opened["code"]}).get_json()
        assert answer["verdict"] == "genuine" and client.get("/readyz").get_json()["status"] == "ok"
        wrong = make_app(REDIS_URL=secure_store.url.replace(secure_store.secure.PASSWORD, "not-the-password"))
        refused = wrong.test_client().get("/readyz")
        assert refused.status_code == 503 and "not-the-password" not in refused.get_data(as_text=True)

    class Load:
        """Threads sending number checks, the right code (a borrower with a session), wrong codes (another
        borrower, so the first is never locked out) and reports; every answer kept with its time."""

        def __init__(self, app, code, threads=4):
            import threading

            self.app, self.code = app, code
            self.seen, self.acknowledged, self.stop = [], [], threading.Event()
            self.workers = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]
            for worker in self.workers:
                worker.start()

        def _run(self, number):
            client = self.app.test_client()
            while not self.stop.is_set():
                ip = {"REMOTE_ADDR": f"198.51.{number}.{len(self.seen) % 250 + 1}"}
                for kind, answer in (
                        ("check", client.get("/api/v1/check?number=95188", environ_base=ip)),
                        ("right", client.post("/api/v1/verify", json={"phone": "13800138000", "code": self.code}, environ_base=ip)),
                        ("wrong", client.post("/api/v1/verify", json={"phone": "13900139000", "code": "123456"}, environ_base=ip)),
                        ("report", client.post("/api/v1/reports", json={"number": "02199998888"}, environ_base=ip))):
                    body = answer.get_json() or {}
                    self.seen.append((time.monotonic(), kind, answer.status_code, body.get("verdict")))
                    if kind == "report" and answer.status_code == 201:
                        self.acknowledged.append(body["id"])

        def first_report_after(self, moment, within):
            """When the first report after ``moment`` was acknowledged (waiting up to ``within`` s), or None."""
            while time.monotonic() - moment < within:
                found = [at for at, kind, status, _verdict in list(self.seen) if kind == "report" and status == 201 and at > moment]
                if found:
                    return found[0]
                time.sleep(0.1)
            return None

        def end(self):
            """Stop the threads; the verdicts per kind of request and the statuses seen."""
            self.stop.set()
            for worker in self.workers:
                worker.join(10)
            verdicts = {kind: {verdict for _at, own, _status, verdict in self.seen if own == kind} for kind in ("right", "wrong")}
            return verdicts, {status for _at, _kind, status, _verdict in self.seen}

    def _victim(svc, servers):
        # The primary holding {reports}: on a cluster one of three, with Sentinel the only one.
        if not svc.store.clustered:
            return servers.primary()
        holder = svc.store.redis.get_node_from_key(svc.store.key("reports", "by-time")).port
        return next(node for node in servers.primaries() if node.port == holder)

    def test_a_primary_killed_under_load_gives_unavailable_then_recovers_and_keeps_acknowledged_reports(
            private_store, make_app):
        """kill -9 the primary of {reports} (the cluster's, or Sentinel's only one) while checks, right and
        wrong codes and reports run: no answer but `unavailable` or the right one (never `genuine` for a
        wrong code), answers again within 2 s (cluster-node-timeout, or Sentinel's down-after and its
        election) + 5 s, and every report acknowledged with 201 is stored."""
        import signal

        from verify.services import demo

        app = make_app(REDIS_URL=private_store.url, VERIFY_RATE_REPORT="100000 per minute")
        svc = app.extensions["verify"]
        demo.seed(svc, logins=False)
        token = svc.keys.create(CLI, "failover", "sessions")
        opened = app.test_client().post("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}, json={
            "borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明",
            "purpose": "贷后回访"}).get_json()
        victim, load = _victim(svc, private_store), Load(app, opened["code"])
        time.sleep(1.5)
        killed = time.monotonic()
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        back = load.first_report_after(killed + 0.5, within=2 + 5 + 3)
        time.sleep(1)
        verdicts, statuses = load.end()
        assert back is not None and back - killed < 2 + 5, "the service did not recover within 2 s + 5 s"
        print(f"\nkilled {victim.port}: reports acknowledged again {back - killed:.1f} s later; {len(load.seen)} answers, "
              f"{len(load.acknowledged)} reports acknowledged, verdicts {verdicts}")
        assert verdicts["wrong"] <= {"not_verified", "locked", "unavailable"} and verdicts["right"] <= {"genuine", "unavailable"}
        assert "genuine" in verdicts["right"] and statuses <= {200, 201, 429, 503}  # 429: the locked wrong-code borrower
        stored = private_store.client()
        missing = [report for report in load.acknowledged if not stored.exists(svc.store.key("reports", f"r:{report}"))]
        assert not missing, f"{len(missing)} of {len(load.acknowledged)} acknowledged reports were lost in the failover"


def test_a_cluster_that_does_not_answer_is_said_once_not_at_every_probe(make_app, caplog):
    """The gate logs a reason when it changes: redis-py names the seed node it tried last, in a varying
    order, which made every probe a new reason (and filled the log of whatever ran next)."""
    import logging

    with caplog.at_level(logging.ERROR, logger="verify.registry.gate"):
        app = make_app(REDIS_URL="redis+cluster://127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", VERIFY_REDIS_TIMEOUT=0.1)
        time.sleep(1.2)  # two probes
    said = [record for record in caplog.records if record.name == "verify.registry.gate"]
    assert len(said) == 1 and "no seed node of the Redis Cluster answers" in said[0].getMessage()
    assert app.test_client().get("/readyz").status_code == 503
