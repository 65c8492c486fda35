"""Scaling out (README, Scaling out): REDIS_URL's forms for one server, a Redis Cluster and Sentinel,
and what must hold on every one of them."""

import os

import pytest
import redis

from verify import create_app
from verify.registry import address
from verify.registry.store import connect
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
