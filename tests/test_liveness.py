"""The liveness listener (``VERIFY_HEALTH_ADDRESS``): ``/healthz`` from a thread of its own, which no
request thread can hold up. Under a Redis stall through ``make serve`` it is measured by test_faults."""

import contextlib
import http.client
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.test_soak import ROOT, _alive_in_group, _environment, _free_port, _wait_healthy, serve_command
from verify import liveness, settings

HOST = "127.0.0.1"


def _get(port, path="/healthz"):
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def listener():
    server = liveness.start(HOST, 0)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_it_answers_healthz_and_nothing_else(listener):
    assert _get(listener) == (200, "application/json", {"status": "ok"})
    assert _get(listener, "/healthz?probe=1")[0] == 200
    status, kind, body = _get(listener, "/readyz")
    assert (status, kind, body["status"]) == (404, "application/problem+json", 404)


def test_it_answers_while_this_process_is_busy_elsewhere(listener):
    """Threads that hold no lock of the listener's (here: sleeping, as a request waits on Redis's
    socket) do not hold it up."""
    stop = threading.Event()
    workers = [threading.Thread(target=stop.wait, daemon=True) for _ in range(8)]
    for worker in workers:
        worker.start()
    started = time.monotonic()
    assert _get(listener)[0] == 200
    stop.set()
    assert time.monotonic() - started < 1


def test_silent_clients_do_not_block_the_probes(listener):
    """Connections that send nothing (a stray scanner, a slow client) hold a thread each for at most
    two seconds; a probe beside twenty of them is answered at once."""
    silent = [socket.create_connection((HOST, listener)) for _ in range(20)]
    try:
        started = time.monotonic()
        assert _get(listener)[0] == 200
        assert time.monotonic() - started < 1
        silent[0].settimeout(5)
        assert silent[0].recv(1024) == b""  # closed by the listener after its timeout
    finally:
        for sock in silent:
            sock.close()


def _closed_within(sock, seconds, drip=b""):
    """Seconds until the listener closed ``sock`` (None: still open after ``seconds``), sending
    ``drip`` every half second meanwhile."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if drip:
                sock.sendall(drip)
            if select.select([sock], [], [], 0.5)[0] and sock.recv(65536) == b"":
                return time.monotonic() - started
        except OSError:  # reset: closed
            return time.monotonic() - started
    return None


def test_a_client_sending_a_byte_at_a_time_gets_no_more_than_two_seconds(listener):
    """http.server's timeout is per read: a byte every half second held a thread for ever (still
    open after 6 s). The head must be complete within 2 s in all."""
    sock = socket.create_connection((HOST, listener))
    try:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n")
        assert (_closed_within(sock, 6, drip=b"X") or 99) < 3
    finally:
        sock.close()


def test_a_head_sent_in_pieces_within_the_time_is_answered(listener):
    with socket.create_connection((HOST, listener), timeout=5) as sock:
        sock.sendall(b"GET /heal")
        time.sleep(0.3)
        sock.sendall(b"thz HTTP/1.0\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.0 200 ")


def test_huge_heads_do_not_fill_the_worker(listener):
    """http.server keeps up to 100 header lines of 64 KiB: twenty connections sending 99 lines of
    60 KB each and holding on grew the process by 121 MB. Heads over ``MAX_HEAD`` are not read."""
    line = b"X-Pad: " + b"a" * 60_000 + b"\r\n"
    before, held = psutil.Process().memory_info().rss, []
    try:
        for _ in range(20):
            sock = socket.create_connection((HOST, listener), timeout=2)
            held.append(sock)
            with contextlib.suppress(OSError):  # the listener stopped reading and closed it
                sock.sendall(b"GET /healthz HTTP/1.0\r\n" + line * 99)
        time.sleep(0.5)
        grown = psutil.Process().memory_info().rss - before
        print(f"\n20 connections with 6 MB heads: the process grew {grown / 1e6:.1f} MB")
        assert grown < 30e6
        assert _get(listener)[0] == 200
    finally:
        for sock in held:
            sock.close()


def test_clients_gone_before_their_answer_print_nothing(listener, capfd):
    """A probe that gave up, a scanner's reset: socketserver printed a traceback for each (18 of 20)."""
    for _ in range(20):
        sock = socket.create_connection((HOST, listener))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        sock.close()
    time.sleep(0.5)
    assert _get(listener)[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_every_worker_binds_the_same_address():
    """Each granian worker starts its own listener on the same address (``SO_REUSEPORT``)."""
    first = liveness.start(HOST, 0)
    second = liveness.start(HOST, first.server_address[1])
    try:
        assert _get(first.server_address[1])[0] == 200
    finally:
        for server in (first, second):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("address", ["5001", "localhost", "localhost:", ":5001", "localhost:0", "localhost:70000",
                                     "localhost:50x1"])
def test_a_bad_address_is_refused_at_start(address):
    with pytest.raises(settings.ConfigError, match="VERIFY_HEALTH_ADDRESS"):
        settings.load({"VERIFY_HEALTH_ADDRESS": address})


@pytest.mark.parametrize("address, expected", [("0.0.0.0:5001", ("0.0.0.0", 5001)), ("[::1]:5001", ("::1", 5001)),
                                               ("health.internal:8081", ("health.internal", 8081))])
def test_an_address_is_read_as_host_and_port(address, expected):
    assert settings.host_and_port(settings.load({"VERIFY_HEALTH_ADDRESS": address}).health_address) == expected


def test_make_serve_starts_it_in_each_worker_and_says_so_once_when_the_address_is_taken(tmp_path):
    """``make serve``'s own command: a taken address stops the workers with one clear line."""
    taken = socket.socket()
    taken.bind((HOST, 0))
    taken.listen()
    port = _free_port()
    cmd, assigned = serve_command(port, taken.getsockname()[1], workers=1)
    env = {**_environment(VERIFY_INSTANCE_PATH=str(tmp_path)), **assigned}
    assert assigned == {"VERIFY_HEALTH_ADDRESS": f"{HOST}:{taken.getsockname()[1]}"}
    assert cmd[-2:] == ["--factory", "wsgi:serve"]
    code = "import sys, wsgi; wsgi.serve()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    taken.close()
    assert result.returncode != 0
    assert "verify: cannot answer liveness probes on 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_make_serve_stops_whole_on_a_sigterm_to_make(redis_server, tmp_path):
    """``docker stop`` sends SIGTERM to the container's first process, ``make serve`` (Dockerfile), and
    make forwards it to the process it started. A recipe that begins with a variable assignment runs
    under /bin/sh, which died of the SIGTERM and left granian and its workers running, orphaned, on
    both ports (a later ``make serve`` shares them: SO_REUSEPORT), and in a container killed
    without a graceful stop. make must start granian itself."""
    redis_server.flush()
    port, health = _free_port(), _free_port()
    env = _environment(REDIS_URL=redis_server.url, VERIFY_INSTANCE_PATH=str(tmp_path / "instance"))
    cmd = ["make", "--no-print-directory", "-o", ".venv/.runtime", "serve", f"BIN={Path(sys.executable).parent}",
           f"HOST={HOST}", f"PORT={port}", f"HEALTH={HOST}:{health}", "CORES=2"]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        _wait_healthy(proc, port, log)
        assert _get(health)[0] == 200
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive_in_group(proc.pid) and time.monotonic() < deadline:
            proc.poll()
            time.sleep(0.05)
        assert not _alive_in_group(proc.pid), "granian left running after make stopped:\n" + log.read_text()[-2000:]
    finally:
        if _alive_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_a_stuck_request_fails_the_probe_until_it_ends():
    """A worker whose request never returns (a deadlock, a hung call) must be restarted: the probe
    says 503 ``stuck`` once a request has run ``stuck_seconds``, and ok again when it ends."""
    release, entered = threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    watch = liveness.Watch(app, stuck_seconds=0.3)
    server = liveness.start(HOST, 0, watch)
    port = server.server_address[1]
    request = threading.Thread(target=lambda: list(watch({}, lambda *args: None)), daemon=True)
    try:
        assert _get(port)[0] == 200
        request.start()
        entered.wait(5)
        assert _get(port)[0] == 200  # running, not stuck yet
        time.sleep(0.4)
        status, _kind, body = _get(port)
        assert (status, body["status"]) == (503, "stuck")
        release.set()
        request.join(5)
        assert _get(port) == (200, "application/json", {"status": "ok"})
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_make_serve_starts_a_killed_worker_again(redis_server, tmp_path):
    """A worker that dies (kill -9, out of memory) is started again while the other serves: granian
    stopped whole without ``--respawn-failed-workers``."""
    from tests.test_soak import _server

    redis_server.flush()
    port, health = _free_port(), _free_port()
    cmd, assigned = serve_command(port, health)
    env = {**_environment(REDIS_URL=redis_server.url, VERIFY_INSTANCE_PATH=str(tmp_path / "instance")), **assigned}
    with _server(cmd, env, tmp_path / "granian.log", port) as proc:
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        workers[0].kill()
        deadline, answered = time.monotonic() + 10, []
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                answered.append(_get(port, "/healthz")[0])
            now = psutil.Process(proc.pid).children()
            if len(now) == 2 and workers[0].pid not in {p.pid for p in now} and answered:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "granian stopped when one worker died"
        assert len(now) == 2 and workers[0].pid not in {p.pid for p in now}
        time.sleep(1)  # the new worker imports the app
        assert {_get(port)[0] for _ in range(10)} == {200} and _get(health)[0] == 200
