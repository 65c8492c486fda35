"""``make run`` stops cleanly: the real target, on a temporary data folder and a free port, stopped the
ways a terminal (Ctrl-C, a closed window), systemd or a CI job stop it, once or twice, to make's process
group or to make alone. Each time the whole group must be gone within a few seconds, no process may be
left working in the data folder (the embedded redis-server runs there), nothing on standard error may
be a traceback, and every report the server acknowledged (201) must be there when it serves again.

make forwards SIGTERM to its child, so a SIGTERM to the group reaches the app twice: the second one
used to interrupt the clean-up that stops the embedded server, and the server was left running.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_soak import (  # noqa: F401  (private_tmp is a fixture)
    HOST,
    ROOT,
    _alive_in_group,
    _cli,
    _default_sigint,
    _environment,
    _free_port,
    _json,
    _log_tail,
    _processes_in,
    _reap,
    _wait_healthy,
    private_tmp,
)

REPORTED = "021-5555-4321"
REPORTS = 20  # filed back to back, the last one just before the signal
STOP_SECONDS = 5  # "within a few seconds"
GROUP, MAKE = "group", "make"

# How each test stops `make run`: (to whom, signal, again and again until make has exited?). make
# forwards SIGTERM to its child, so one SIGTERM to the group reaches the app twice, the second at a
# moment that varies; a signal sent every few milliseconds (an impatient Ctrl-C, a supervisor sending
# SIGTERM again) is sure to land while the clean-up runs.
STOPS = {
    "SIGINT to the group (Ctrl-C)": (GROUP, signal.SIGINT, False),
    "SIGINT again and again to the group": (GROUP, signal.SIGINT, True),
    "SIGTERM to the group (systemd, CI)": (GROUP, signal.SIGTERM, False),
    "SIGTERM again and again to the group": (GROUP, signal.SIGTERM, True),
    "SIGTERM to make alone": (MAKE, signal.SIGTERM, False),
    "SIGHUP to the group (terminal closed)": (GROUP, signal.SIGHUP, False),
}
REPEAT_EVERY = 0.002


class MakeRun:
    """``make run`` in its own process group; standard output and error in files of ``folder``."""

    def __init__(self, env, folder, port):
        self.env, self.port = env, port
        self.out, self.err = Path(folder) / "make-run.out", Path(folder) / "make-run.err"
        self.proc = None

    def start(self):
        # The suite's own environment as make's BIN, and the installation taken as done (-o): the
        # target's recipe as it is, with nothing installed by the test.
        cmd = ["make", "--no-print-directory", "-o", ".venv/.runtime", "run", f"BIN={Path(sys.executable).parent}",
               f"HOST={HOST}", f"PORT={self.port}"]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=_default_sigint)
        _wait_healthy(self.proc, self.port, self.err)
        return self

    def signal(self, stop):
        """Send ``stop`` (a value of STOPS): once, or every REPEAT_EVERY seconds until make has exited
        (at most STOP_SECONDS)."""
        target, signum, again = stop
        deadline = time.monotonic() + STOP_SECONDS
        while True:
            if target == MAKE:
                self.proc.send_signal(signum)
            else:
                os.killpg(self.proc.pid, signum)  # make is not reaped yet: its group is there
            if not again or self.proc.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(REPEAT_EVERY)

    def group_ended(self):
        """True when make and every process of its group ended within STOP_SECONDS; else kills them."""
        deadline = time.monotonic() + STOP_SECONDS
        while _alive_in_group(self.proc.pid) and time.monotonic() < deadline:
            self.proc.poll()  # reaps make once it exits
            time.sleep(0.02)
        if not _alive_in_group(self.proc.pid):
            return True
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def _file_reports(port):
    ids = []
    for n in range(REPORTS):
        status, body, raw = _json(port, "POST", "/api/v1/reports", {"number": REPORTED, "text": f"stop test {n}"})
        assert status == 201, f"report {n}: {status} {raw[:200]!r}"
        ids.append(body["id"])
    return ids


def _stop_cleanly(run, stop, folders):
    """Stop ``run`` with ``stop``; returns what went wrong (nothing when it stopped cleanly)."""
    started = time.monotonic()
    run.signal(stop)
    problems = [] if run.group_ended() else [f"make's process group still running {STOP_SECONDS} s later: killed"]
    seconds = time.monotonic() - started
    for folder in folders:
        left = _reap(folder)
        if left:
            problems.append(f"processes left working in {folder}: {left} (killed)")
    stderr = run.err.read_text(errors="replace")
    if "Traceback" in stderr:
        problems.append("a traceback on standard error:\n" + _log_tail(run.err))
    print(f"\nstopped in {seconds:.2f} s, make exited {run.proc.returncode}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("stop", list(STOPS.values()), ids=list(STOPS))
def test_make_run_stops_cleanly_and_keeps_acknowledged_writes(stop, tmp_path, private_tmp):
    instance = tmp_path / "instance"
    env = _environment(VERIFY_INSTANCE_PATH=str(instance), TMPDIR=private_tmp)
    reviewer = {"Authorization": "Bearer " + _cli(env, "keys", "create", "--scope", "reports", "--name", "stop",
                                                  "--quiet").strip().splitlines()[-1]}
    folders = (instance, private_tmp)
    os.makedirs(tmp_path / "first")
    run = MakeRun(env, tmp_path / "first", _free_port())
    try:
        run.start()
        assert _processes_in(instance), "no embedded redis-server working in the data folder while serving"
        ids = _file_reports(run.port)
        problems = _stop_cleanly(run, stop, folders)
        assert not problems, "\n".join(problems)

        again = MakeRun(env, tmp_path, _free_port())
        run = again.start()
        missing = [i for i in ids if _json(again.port, "GET", f"/api/v1/reports/{i}", headers=reviewer)[0] != 200]
        assert not missing, f"{len(missing)} of {len(ids)} acknowledged reports lost: {missing[:3]}"
        problems = _stop_cleanly(again, STOPS["SIGINT to the group (Ctrl-C)"], folders)
        assert not problems, "\n".join(problems)
    finally:
        run.kill()
        for folder in folders:
            _reap(folder)
