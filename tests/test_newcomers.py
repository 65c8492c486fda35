"""What a newcomer meets first (issue 15, item 13): `make run` shows its install and prints the URLs of
the port it serves on, the README's commands run as written in a fresh clone and stay inside the
repository, CLI commands that have nothing to do with SMS print no Twilio warning, and list commands
end their output with a newline."""

import logging
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.test_soak import ROOT, _environment, _tool

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKE_TIMEOUT = 30


def _make_dry_run(*args):
    """The commands ``make`` would run (``-n``: nothing is run), one per line."""
    result = subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=MAKE_TIMEOUT, env=_environment())
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


# --- make run ----------------------------------------------------------------------------------------
def test_make_run_shows_the_install_as_it_goes(tmp_path):
    """In a fresh clone (no .venv yet) make says what it installs, and pip is not silenced."""
    lines = _make_dry_run("run", f"VENV={tmp_path / 'venv'}")
    installs = [line for line in lines if "pip install" in line]
    assert len(installs) >= 2 and any("-r requirements.txt" in line for line in installs)
    assert not [line for line in installs if re.search(r"(^|\s)(-q|--quiet)(\s|$)", line)]
    first_install = next(n for n, line in enumerate(lines) if "-r requirements.txt" in line)
    assert any(line.startswith("echo ") and "installing requirements.txt" in line for line in lines[:first_install])


def test_make_run_prints_the_urls_of_the_port_it_serves(redis_server, tmp_path):
    """`PORT=5087 make run`: the recipe's banner, run as make runs it, names :5087 everywhere."""
    redis_server.flush()
    lines = _make_dry_run("-o", ".venv/.runtime", "run", f"BIN={Path(sys.executable).parent}", "PORT=5087")
    seed = next(line for line in lines if "seed-demo" in line)
    assert any("run --host 127.0.0.1 --port 5087" in line for line in lines)
    env = _environment(REDIS_URL=redis_server.url, VERIFY_INSTANCE_PATH=str(tmp_path / "instance"))
    result = subprocess.run(seed, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    urls = re.findall(r"http://[^\s'/]+", result.stdout)
    assert urls and set(urls) == {"http://127.0.0.1:5087"}, urls
    assert ":5000" not in result.stdout


def test_seed_demo_prints_the_url_it_is_given(make_app):
    runner = make_app().test_cli_runner()
    out = runner.invoke(args=["seed-demo", "--url", "http://0.0.0.0:8080/"]).output
    assert "on http://0.0.0.0:8080\n" in out and "curl 'http://0.0.0.0:8080/api/v1/check?number=" in out
    assert ":5000" not in out
    assert "http://127.0.0.1:5000" in runner.invoke(args=["seed-demo", "--if-empty"]).output  # flask run's default


# --- Twilio warning ----------------------------------------------------------------------------------
def test_cli_commands_print_no_twilio_warning(redis_server, tmp_path):
    """The app is made for every command; only a serving process (or an SMS command) mentions Twilio."""
    redis_server.flush()
    env = _environment(REDIS_URL=redis_server.url, VERIFY_INSTANCE_PATH=str(tmp_path / "instance"), VERIFY_LOG_LEVEL="INFO")
    env.pop("TWILIO_AUTH_TOKEN")
    for args in (["keys", "list"], ["numbers", "list"]):
        result = subprocess.run([*_tool("flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "TWILIO" not in result.stderr + result.stdout, (args, result.stderr)
    sms = subprocess.run([*_tool("flask"), "--app", "wsgi", "sms", "simulate", "--from", "+8613800138000", "HELP"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert sms.returncode != 0 and "TWILIO_AUTH_TOKEN" in sms.stderr + sms.stdout


def test_a_serving_process_warns_once_at_its_first_request(make_app, caplog):
    with caplog.at_level(logging.WARNING):
        app = make_app()
        assert "TWILIO_AUTH_TOKEN" not in caplog.text
        client = app.test_client()
        client.get("/healthz")
        client.get("/healthz")
    assert caplog.text.count("TWILIO_AUTH_TOKEN is not set") == 1


def test_with_a_token_nothing_is_said(make_app, caplog):
    with caplog.at_level(logging.WARNING):
        make_app(TWILIO_AUTH_TOKEN="set").test_client().get("/healthz")
    assert "TWILIO" not in caplog.text


# --- CLI output -------------------------------------------------------------------------------------
LISTS = (["numbers", "list"], ["keys", "list"], ["staff", "list"])


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_list_commands_end_with_a_newline_empty_or_not(make_app, args):
    app = make_app()
    runner = app.test_cli_runner()
    empty = runner.invoke(args=args)
    assert empty.exit_code == 0 and empty.output.strip() and empty.output.endswith("\n"), repr(empty.output)
    runner.invoke(args=["seed-demo"])
    full = runner.invoke(args=args)
    assert full.exit_code == 0 and full.output.endswith("\n") and "demo" in full.output


# --- the README ------------------------------------------------------------------------------------
def _shell_commands():
    """Every command line in the README's ``sh`` blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_readme_runs_flask_as_a_fresh_clone_has_it():
    """Bare `flask` is not on PATH without activating the venv: every mention is `.venv/bin/flask --app wsgi`."""
    bare = [m.group(0) for m in re.finditer(r"(?<![\w/.-])flask (?:--app|run|purge)\S*", README)]
    assert bare == []
    assert sum(".venv/bin/flask --app wsgi" in line for line in _shell_commands()) >= 15


def _flask_examples():
    """The arguments of every `.venv/bin/flask --app wsgi` example: in the ``sh`` blocks and inline."""
    lines = [line for line in _shell_commands() if line.startswith(".venv/bin/flask --app wsgi ")]
    lines += re.findall(r"`(?:[^`]*&& )?(\.venv/bin/flask --app wsgi [^`…]+)`", README)
    return [shlex.split(line.split(" > ")[0])[3:] for line in lines]


def test_every_flask_example_in_the_readme_is_a_command_with_valid_options(make_app, tmp_path, monkeypatch):
    """Each example is parsed by the command it names (options, choices, arguments), as `flask` would."""
    app = make_app()
    (tmp_path / "numbers.csv").write_text("number\n", encoding="utf-8")  # `numbers import numbers.csv` opens it
    monkeypatch.chdir(tmp_path)
    examples = _flask_examples()
    assert {words[0] for words in examples} >= {"keys", "staff", "numbers", "sms", "voice", "seed-demo", "purge", "reports", "run"}
    for words in examples:
        command, rest = app.cli.get_command(click.Context(app.cli), words[0]), words[1:]
        if command is None:
            assert words[0] == "run", words  # Flask's own
            continue
        if isinstance(command, click.Group):
            command, rest = command.get_command(click.Context(command), rest[0]), rest[1:]
            assert command is not None, words
        try:
            command.make_context(" ".join(words), list(rest))
        except click.UsageError as exc:
            pytest.fail(f"{' '.join(words)}: {exc}")


def test_readme_links_and_paths_stay_inside_the_repository():
    links = re.findall(r"\]\(([^)]+)\)", README)
    outside = [link for link in links if not link.startswith(("http://", "https://", "#"))
               and not (ROOT / link).resolve().is_relative_to(ROOT)]
    assert outside == []
    assert not re.search(r"file://|/work/|/home/|\.\./", README)
    paths = set(re.findall(r"`((?:verify|tests|bench|\.ci)/[\w./-]*)`", README))
    assert paths and [path for path in sorted(paths) if not (ROOT / path).exists()] == []
    for link in links:
        if not link.startswith(("http://", "https://", "#")):
            assert (ROOT / link).exists(), link


def test_the_banner_suggests_commands_a_fresh_clone_can_run():
    from verify.services import demo

    text = demo.banner({}, {"brand": "OK钱包", "brand_en": "OK Wallet", "hotline": "400-000-9518", "sms": "1"}, {},
                       base="http://127.0.0.1:5087")
    assert ".venv/bin/flask --app wsgi staff create" in text and ":5000" not in text
