"""The ``flask --app wsgi`` commands: seed-demo, numbers, keys, sms, voice, staff. Each calls one service
operation as the actor ``cli``; domain errors become a one-line message and exit status 1."""

import contextlib
import csv
import functools
import json
import os
import secrets
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from verify.errors import DomainError, Invalid, NotFound, StoreUnavailable
from verify.routes import services
from verify.services import demo
from verify.services.actor import CLI
from verify.services.keys import SCOPES
from verify.services.numbers import DIRECTIONS, PURPOSES
from verify.services.staff import ROLES

numbers_cli = AppGroup("numbers", help="Manage the registry of official numbers.")
keys_cli = AppGroup("keys", help="Manage API keys (shown once at creation, stored hashed).")
sms_cli = AppGroup("sms", help="Try the SMS channel locally.")
voice_cli = AppGroup("voice", help="Try the voice hotline locally.")
staff_cli = AppGroup("staff", help="Manage staff accounts for the dashboard.")
reports_cli = AppGroup("reports", help="Reporters' personal data.")

CSV_FIELDS = ("number", "label_zh", "label_en", "purpose", "direction", "status", "retired_on", "variants", "notes")


def domain_errors(command):
    """Show a domain error as ``Error: ...`` (exit status 1) instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Invalid as exc:
            raise click.ClickException("; ".join(f"{field}: {message}" for field, message in exc.errors)) from None
        except NotFound as exc:
            raise click.ClickException(f"not found: {exc.message}") from None
        except DomainError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper


def _print_entry(entry):
    retired = f" (retired {entry['retired_on']})" if entry["status"] == "retired" else ""
    variants = f"  variants: {', '.join(entry['variants'])}" if entry["variants"] else ""
    click.echo(f"{entry['number']:<16} {entry['direction']:<12} {entry['purpose']:<11} {entry['status']}{retired}  "
               f"{entry['labels']['zh']} / {entry['labels']['en']}{variants}")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="load nothing if the registry has numbers already (make run)")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True,
              help="where the server will answer, for the URLs printed (make run passes its HOST and PORT)")
@domain_errors
def seed_demo(if_empty, url):
    """Load the fictional demo registry and demo API keys (keeps what is there)."""
    svc = services()
    keys_file = os.path.join(current_app.instance_path, "demo-keys.json")
    _reindex(svc)
    if if_empty and not svc.numbers.is_empty():
        click.echo("The store has official numbers already: demo data not loaded.")
    else:
        _seed(svc, keys_file)
    if os.path.exists(keys_file):
        with open(keys_file, encoding="utf-8") as handle:
            shown = json.load(handle)
        click.echo(demo.banner(shown.get("keys", {}), svc.settings.brand_texts, shown.get("logins", {}), base=url.rstrip("/")))


def _seed(svc, keys_file):
    added, keys, logins = demo.seed(svc)
    click.echo(f"Demo numbers added: {', '.join(added) if added else 'none (already there)'}")
    if (keys or logins) and not svc.settings.production:
        # Demo keys and logins only, development only: kept so `make run` shows them on every start.
        with open(keys_file, "w", encoding="utf-8") as handle:
            json.dump({"keys": keys, "logins": logins}, handle)
    for name, key in keys.items():
        click.echo(f"Demo API key {name}: {key}")
    for name, password in logins.items():
        click.echo(f"Demo login {name}: {password}")


def _entry_options(func):
    for option in reversed([
        click.option("--label-zh"),
        click.option("--label-en"),
        click.option("--purpose", type=click.Choice(PURPOSES)),
        click.option("--direction", type=click.Choice(DIRECTIONS)),
        click.option("--variant", "variants", multiple=True, help="a display variant (repeat for more)"),
        click.option("--notes"),
    ]):
        func = option(func)
    return func


def _entry_data(label_zh, label_en, purpose, direction, variants, notes, existing=None):
    data = {}
    if label_zh or label_en:
        labels = dict((existing or {}).get("labels") or {})
        labels.update({k: v for k, v in (("zh", label_zh), ("en", label_en)) if v})
        data["labels"] = labels
    for field, value in (("purpose", purpose), ("direction", direction), ("notes", notes)):
        if value is not None:
            data[field] = value
    if variants:
        data["variants"] = list(variants)
    return data


@numbers_cli.command("add")
@click.argument("number")
@_entry_options
@domain_errors
def numbers_add(number, **options):
    """Register an official number."""
    _print_entry(services().numbers.add(CLI, {"number": number, **_entry_data(**options)}))


@numbers_cli.command("update")
@click.argument("number")
@_entry_options
@domain_errors
def numbers_update(number, **options):
    """Change an entry's labels, purpose, direction, variants or notes."""
    registry = services().numbers
    _print_entry(registry.update(CLI, number, _entry_data(**options, existing=registry.get(number))))


@numbers_cli.command("retire")
@click.argument("number")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="retirement date (default today)")
@domain_errors
def numbers_retire(number, on):
    """Retire a number: it stays listed as retired, and checks say we no longer use it."""
    _print_entry(services().numbers.retire(CLI, number, on.date() if on else None))


@numbers_cli.command("list")
@domain_errors
def numbers_list():
    """List the registry."""
    entries = services().numbers.all()
    for entry in entries:
        _print_entry(entry)
    if not entries:
        click.echo("No official numbers registered (numbers add, or seed-demo for the demo ones).")


@numbers_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--inbound-only", is_flag=True,
              help="only the active numbers that never call out (the feed at /api/v1/numbers/inbound-only)")
@domain_errors
def numbers_export(fmt, inbound_only):
    """Write the registry to standard output (CSV that `numbers import` reads back, or JSON)."""
    if inbound_only:
        _export_inbound_only(fmt)
        return
    entries = [{k: v for k, v in e.items() if k != "variant_displays"} for e in services().numbers.all()]
    if fmt == "json":
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for entry in entries:
        writer.writerow({**{f: entry.get(f) or "" for f in ("number", "purpose", "direction", "status", "retired_on", "notes")},
                         "label_zh": entry["labels"]["zh"], "label_en": entry["labels"]["en"],
                         "variants": ";".join(entry["variants"])})


def _export_inbound_only(fmt):
    # The carriers' list: number, labels, variants (';'-separated in CSV), since.
    numbers = services().numbers.inbound_only()
    if fmt == "json":
        click.echo(json.dumps(numbers, ensure_ascii=False, indent=2))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=("number", "label_zh", "label_en", "variants", "since"))
    writer.writeheader()
    for item in numbers:
        writer.writerow({"number": item["number"], "label_zh": item["labels"]["zh"], "label_en": item["labels"]["en"],
                         "variants": ";".join(item["variants"]), "since": item["since"]})


@numbers_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@domain_errors
def numbers_import(file):
    """Add or update entries from a CSV file with the columns of `numbers export`.

    Every row is checked first; nothing is written unless all rows are valid.
    """
    reader = csv.DictReader(file)
    missing = {"number", "label_zh", "label_en", "purpose", "direction"} - set(reader.fieldnames or [])
    if missing:
        raise click.ClickException(f"missing columns: {', '.join(sorted(missing))}")
    for number, done in services().numbers.import_rows(CLI, [_row_entry(row) for row in reader]):
        click.echo(f"{done:<7} {number}")


def _row_entry(row):
    return {
        "number": row["number"],
        "labels": {"zh": row["label_zh"], "en": row["label_en"]},
        "purpose": row["purpose"],
        "direction": row["direction"],
        "status": row.get("status") or "active",
        "retired_on": row.get("retired_on") or None,
        "variants": [item for item in (row.get("variants") or "").split(";") if item.strip()],
        "notes": row.get("notes") or "",
    }


@keys_cli.command("create")
@click.option("--scope", type=click.Choice(SCOPES), required=True)
@click.option("--name", required=True)
@click.option("--quiet", is_flag=True, help="print the key alone (for scripts)")
@domain_errors
def keys_create(scope, name, quiet):
    """Create an API key; it is printed once and stored only as a hash."""
    key = services().keys.create(CLI, name, scope)
    click.echo(key if quiet else f"API key {name} (scope {scope}):\n{key}\nStore it now: it cannot be shown again.")


@keys_cli.command("list")
@domain_errors
def keys_list():
    """List API keys (names, scopes, dates; never the keys)."""
    rows = services().keys.all()
    for row in rows:
        state = f"revoked {row['revoked']}" if row["revoked"] else "active"
        click.echo(f"{row['name']:<24} {row['scope']:<9} created {row['created']}  {state}")
    if not rows:
        click.echo("No API keys (keys create).")


@keys_cli.command("revoke")
@click.argument("name")
@domain_errors
def keys_revoke(name):
    """Revoke an API key by name: it stops working at once."""
    services().keys.revoke(CLI, name)
    click.echo(f"revoked {name}")


@sms_cli.command("simulate")
@click.option("--from", "sender", required=True, help="the borrower's phone, e.g. +8613800138000")
@click.argument("body")
def sms_simulate(sender, body):
    """Send BODY to /sms/inbound as Twilio would (correctly signed) and print the reply."""
    settings = services().settings
    base = (settings.public_url or "http://localhost").rstrip("/")
    form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
            "From": sender, "To": settings.sms_number, "Body": body, "NumMedia": "0"}
    signature = services().texts.sign(base + "/sms/inbound", form)
    if signature is None:
        raise click.ClickException("set TWILIO_AUTH_TOKEN (any value, for a local try-out) first")
    response = current_app.test_client().post("/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}, base_url=base)
    click.echo(f"HTTP {response.status_code}")
    click.echo(response.get_data(as_text=True))


@voice_cli.command("simulate")
@click.option("--from", "caller", required=True, help="the caller's phone, e.g. +8613800138000")
@click.argument("keys", nargs=-1)
def voice_simulate(caller, keys):
    """Call the hotline as Twilio would (each request correctly signed), pressing KEYS at the menu's
    prompts in turn (e.g. `1 482193`), and print the TwiML of each step."""
    settings = services().settings
    base = (settings.public_url or "http://localhost").rstrip("/")
    call = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
            "From": caller, "To": settings.hotline, "CallStatus": "in-progress", "Direction": "inbound"}
    url, pressed = base + "/voice/inbound", None
    for step in range(len(keys) + 1):
        form = call if pressed is None else {**call, "Digits": pressed}
        signature = services().voice.sign(url, form)
        if signature is None:
            raise click.ClickException("set TWILIO_AUTH_TOKEN (any value, for a local try-out) first")
        parts = urlsplit(url)
        response = current_app.test_client().post(parts.path, query_string=parts.query, data=form, base_url=base,
                                                  headers={"X-Twilio-Signature": signature})
        click.echo(f"--- POST {url}" + (f"  Digits={pressed}" if pressed is not None else "") + f"  HTTP {response.status_code}")
        twiml = response.get_data(as_text=True)
        click.echo(_indented(twiml) if response.status_code == 200 else twiml)
        gather = ET.fromstring(twiml).find("Gather") if response.status_code == 200 else None
        if gather is None or step == len(keys):
            if step < len(keys):
                click.echo(f"(the call ended here; not pressed: {' '.join(keys[step:])})")
            break
        url, pressed = gather.get("action"), keys[step]


def _indented(twiml):
    tree = ET.fromstring(twiml)
    ET.indent(tree)
    return ET.tostring(tree, encoding="unicode")


@staff_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="support reviews reports; admin also manages numbers, staff and keys; agent: agent console")
@click.option("--generate", is_flag=True, help="generate a password and show it once instead of asking")
@click.option("--display-name", default=None,
              help="the name borrowers see, masked (王小明 -> 王**); agents need one to start sessions")
@domain_errors
def staff_create(name, role, generate, display_name):
    """Create a staff account (argon2id password hash) with an agent id of its own."""
    password = secrets.token_urlsafe(15) if generate else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    made = services().staff.create(CLI, name, role, password, display_name)
    click.echo(f"staff {name} ({role}, agent id {made['agent_id']}) created"
               + (f"; password (shown once): {password}" if generate else ""))


@staff_cli.command("update")
@click.argument("name")
@click.option("--display-name", required=True, help="the name borrowers see, masked, on the account's next sessions")
@domain_errors
def staff_update(name, display_name):
    """Change an account's display name (admins can also do it on the dashboard's Staff page)."""
    services().staff.set_display_name(CLI, name, display_name)
    click.echo(f"{name}: display name {' '.join(display_name.split())}")


@staff_cli.command("list")
@domain_errors
def staff_list():
    """List staff accounts."""
    rows = services().staff.all(scan=True)
    for row in rows:
        state = f"disabled {row['disabled']}" if row.get("disabled") else "active"
        click.echo(f"{row['name']:<20} {row['role']:<8} {row.get('agent_id') or '-':<6} "
                   f"{row.get('display_name') or '(no display name)'}  created {row['created']}  {state}")
    if not rows:
        click.echo("No staff accounts (staff create).")


@staff_cli.command("disable")
@click.argument("name")
@domain_errors
def staff_disable(name):
    """Disable an account: its logins stop working at once."""
    services().staff.disable(CLI, name)
    click.echo(f"disabled {name}")


@click.command("purge")
@with_appcontext
@domain_errors
def purge():
    """Blank reports' personal fields past VERIFY_REPORT_RETENTION_DAYS and drop audit entries past
    VERIFY_AUDIT_RETENTION_DAYS (run it daily, e.g. from cron)."""
    redacted, dropped = services().retention.purge(CLI)
    click.echo(f"{redacted} reports redacted, {dropped} audit entries dropped")


@reports_cli.command("erase")
@click.argument("reference")
@domain_errors
def reports_erase(reference):
    """Erase one report's personal data (its text, the reporter's contact and pseudonym), when the
    reporter asks; the report stays counted."""
    services().retention.erase(CLI, reference)
    click.echo(f"erased the personal data of {reference}")


@click.command("store-check")
@with_appcontext
def store_check():
    """Exit 1 when this configuration refuses its Redis (settings that could lose data, in production);
    ``make serve`` runs it first, so a refusal is said once, not once per worker. A Redis that does not
    answer yet passes: the service answers unavailable until it does."""
    svc = services()
    if svc.health.refusal():
        sys.exit(1)  # the reason is the one line the app logged as it started
    with contextlib.suppress(StoreUnavailable):  # not answering yet: the service answers unavailable until it does
        _reindex(svc)
    click.echo("Redis: ok (or not answering yet)")


def _reindex(svc):
    # A store indexed by an older version of verify gets this version's index before it serves.
    if svc.numbers.reindex_if_stale():
        click.echo("The registry's index was rebuilt for this version of verify.")


def register(app):
    """Attach the commands to ``app``."""
    for command in (seed_demo, numbers_cli, keys_cli, sms_cli, voice_cli, staff_cli, reports_cli, purge, store_check):
        app.cli.add_command(command)
