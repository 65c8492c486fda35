"""Fixtures: a real redis-server started by the suite, the app on it, clients and API keys."""

import os

import pytest

from tests.redis_process import start_test_redis
from verify import create_app
from verify.services.actor import CLI


def in_child_process(work, timeout=10):
    """Run ``work()`` in a forked child (another process of the service) and return what it returned,
    as text; the child is killed and the test fails if it takes longer than ``timeout`` seconds."""
    import signal
    import time

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, str(work()).encode())
        finally:
            os._exit(0)  # never run pytest's own exit in the child
    os.close(write)
    deadline = time.monotonic() + timeout
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            pytest.fail(f"the child process took over {timeout} s")
        time.sleep(0.01)
    with os.fdopen(read) as pipe:
        return pipe.read()


CLUSTER = os.environ.get("TEST_REDIS") == "cluster"


def round_trips(slots):
    """Round trips one request takes whose work touches ``slots`` hash slots: one on one server (its
    scripts run as one), one per slot on a Redis Cluster (a script reaches one slot)."""
    return slots if CLUSTER else 1


TEST_SETTINGS = {
    "TESTING": True,
    "VERIFY_SECRET_KEY": "test-secret-key-of-at-least-32-bytes",
    "VERIFY_HMAC_KEY": "test-hmac-key-of-at-least-32-bytes",
    "VERIFY_LOG_LEVEL": "WARNING",
    # Tests send many checks from one address; the API's own limits are tested with their defaults.
    "VERIFY_RATE_API_CHECK": "100000 per minute",
    "VERIFY_RATE_API_VERIFY": "100000 per minute",
    # The longest timeout allowed: on a machine loaded by Chromium and other servers a request is now
    # and then held ~0.2 s between its script's deadline and Redis running it, which the production
    # default (0.25 s, deadline 0.2 s) refuses as LATE (fail closed; in 2 of ~4,400 tests of one day's
    # runs). Timeouts and deadlines themselves are tested with settings of their own.
    "VERIFY_REDIS_TIMEOUT": 0.5,
}


@pytest.fixture(autouse=True, scope="session")
def _clean_environment():
    """The developer's own VERIFY_* or REDIS_URL must not leak into tests."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("VERIFY_") or k == "REDIS_URL"}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The suite's Redis for the session: one redis-server on a unix socket in a temporary folder, or
    with TEST_REDIS=cluster a Redis Cluster, with TEST_REDIS=sentinel a primary with Sentinel (see
    tests/redis_process.py)."""
    server = start_test_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def make_app(redis_server, tmp_path):
    """Build an app on the suite's Redis (emptied first) with extra settings."""
    redis_server.flush()

    def make(**overrides):
        settings = {**TEST_SETTINGS, "REDIS_URL": redis_server.url, "VERIFY_INSTANCE_PATH": str(tmp_path / "instance")}
        settings.update(overrides)
        return create_app(settings)

    return make


@pytest.fixture
def app(make_app):
    """The app with the demo registry loaded."""
    app = make_app()
    from verify.services import demo

    svc = app.extensions["verify"]
    demo.seed(svc, logins=False)
    return app


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (every browser test file shares it)."""
    from tests.browser import CHROMIUM_ARGS, chromium_or_skip

    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(app):
    """The app served by a real HTTP server on a free port, for the browser tests."""
    from tests.browser import LiveServer

    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def key(app):
    """Make an API key of a scope: ``key("sessions")`` -> auth headers."""

    def make(scope, name=None):
        token = app.extensions["verify"].keys.create(CLI, name or f"test-{scope}-{os.urandom(3).hex()}", scope)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def open_session(client, key):
    """Open a session through the API; returns the JSON answer (id, code, ...)."""
    headers = key("sessions")

    def open_(borrower="13800138000", caller="021-6080-0000", **extra):
        body = {"borrower": borrower, "caller": caller, "agent_id": "A17", "agent_name": "王小明",
                "purpose": "贷后回访", **extra}
        response = client.post("/api/v1/sessions", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    open_.headers = headers
    return open_


def version_reads(monkeypatch):
    """A list that grows by one each time a process reads the registry's version (with the work of a
    check or a report, in its round trip)."""
    from verify.registry.store import Store

    reads, original = [], Store.run_many
    monkeypatch.setattr(Store, "run_many", lambda store, calls: (
        reads.extend(1 for script, _keys, _args in calls if script.name == "value") or original(store, calls)))
    return reads


def registry_of(app):
    """The registry's storage objects on ``app``'s store, for tests that read or plant stored facts."""
    from types import SimpleNamespace

    from verify.registry.audit import AuditLog
    from verify.registry.limits import Limits
    from verify.registry.numbers import Numbers
    from verify.registry.reports import Reports
    from verify.registry.sessions import Sessions

    svc = app.extensions["verify"]
    settings, store = svc.settings, svc.store
    limits = Limits(store, settings.hmac_key.encode())
    numbers = Numbers(store, settings.default_region)
    from verify.services.audit import Audit
    from verify.services.numbers import NumberRegistry

    return SimpleNamespace(
        store=store, limits=limits, numbers=numbers,
        # The registry as another process of the service changes it (its own copy of the index).
        other_process=NumberRegistry(numbers, Audit(AuditLog(store), settings.hmac_key.encode()), settings.default_region),
        cache=svc.checks.registry_cache, facts_cache=svc.checks.facts_cache, reports=Reports(store, numbers, limits), audit=AuditLog(store),
        sessions=Sessions(store, limits, settings.hmac_key.encode(), settings.max_failures, settings.lockout_seconds),
        reporters_key=lambda e164: store.key("reports", f"reporters:{e164}"),
        known_scam_key=lambda: store.key("reports", "known-scam"),
    )


@pytest.fixture
def seeded(make_app):
    """Make an app with extra settings and the demo registry loaded."""
    from verify.services import demo

    def make(**overrides):
        app = make_app(**overrides)
        demo.seed(app.extensions["verify"], logins=False)
        return app

    return make
