"""The ``flask --app wsgi`` commands: seed-demo, numbers, keys."""

import csv
import json
import os
import secrets
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from verify import demo
from verify.errors import Conflict, Invalid, NotFound
from verify.registry import apikeys, audit, numbers, staff
from verify.services import services

numbers_cli = AppGroup("numbers", help="Manage the registry of official numbers.")
keys_cli = AppGroup("keys", help="Manage API keys (shown once at creation, stored hashed).")
sms_cli = AppGroup("sms", help="Try the SMS channel locally.")
staff_cli = AppGroup("staff", help="Manage staff accounts for the dashboard.")

CSV_FIELDS = ("number", "label_zh", "label_en", "purpose", "direction", "status", "retired_on", "variants", "notes")


def _fail(exc):
    if isinstance(exc, Invalid):
        raise click.ClickException("; ".join(f"{field}: {message}" for field, message in exc.errors))
    if isinstance(exc, NotFound):
        raise click.ClickException(f"not found: {exc}")
    raise click.ClickException(str(exc))


def _print_entry(entry):
    retired = f" (retired {entry['retired_on']})" if entry["status"] == "retired" else ""
    variants = f"  variants: {', '.join(entry['variants'])}" if entry["variants"] else ""
    click.echo(
        f"{entry['number']:<16} {entry['direction']:<12} {entry['purpose']:<11} {entry['status']}{retired}  "
        f"{entry['labels']['zh']} / {entry['labels']['en']}{variants}"
    )


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="load nothing if the registry has numbers already (make run)")
def seed_demo(if_empty):
    """Load the fictional demo registry and demo API keys (keeps what is there)."""
    svc = services()
    keys_file = os.path.join(current_app.instance_path, "demo-keys.json")
    if if_empty and not numbers.is_empty(svc.store):
        click.echo("The store has official numbers already: demo data not loaded.")
    else:
        try:
            added, keys, logins = demo.seed(svc.store, svc.region, svc.brand)
        except (Invalid, Conflict) as exc:
            _fail(exc)
        click.echo(f"Demo numbers added: {', '.join(added) if added else 'none (already there)'}")
        if (keys or logins) and current_app.config["VERIFY_ENV"] == "development":
            # Demo keys and logins only, development only: kept so `make run` shows them on every start.
            with open(keys_file, "w", encoding="utf-8") as handle:
                json.dump({"keys": keys, "logins": logins}, handle)
        for name, key in keys.items():
            click.echo(f"Demo API key {name}: {key}")
        for name, password in logins.items():
            click.echo(f"Demo login {name}: {password}")
    if os.path.exists(keys_file):
        with open(keys_file, encoding="utf-8") as handle:
            shown = json.load(handle)
        click.echo(demo.banner(shown.get("keys", {}), svc.brand, shown.get("logins", {})))


def _entry_options(func):
    for option in reversed(
        [
            click.option("--label-zh"),
            click.option("--label-en"),
            click.option("--purpose", type=click.Choice(numbers.PURPOSES)),
            click.option("--direction", type=click.Choice(numbers.DIRECTIONS)),
            click.option("--variant", "variants", multiple=True, help="a display variant (repeat for more)"),
            click.option("--notes"),
        ]
    ):
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
def numbers_add(number, **options):
    """Register an official number."""
    svc = services()
    try:
        entry = numbers.add(svc.store, {"number": number, **_entry_data(**options)}, svc.region)
    except (Invalid, Conflict) as exc:
        _fail(exc)
    audit.record(svc.store, "cli", "registry_add", entry["number"])
    _print_entry(entry)


@numbers_cli.command("update")
@click.argument("number")
@_entry_options
def numbers_update(number, **options):
    """Change an entry's labels, purpose, direction, variants or notes."""
    svc = services()
    try:
        existing = numbers.get(svc.store, number, svc.region)
        entry = numbers.update(svc.store, number, _entry_data(**options, existing=existing), svc.region)
    except (Invalid, Conflict, NotFound) as exc:
        _fail(exc)
    audit.record(svc.store, "cli", "registry_update", entry["number"])
    _print_entry(entry)


@numbers_cli.command("retire")
@click.argument("number")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="retirement date (default today)")
def numbers_retire(number, on):
    """Retire a number: it stays listed as retired, and checks say we no longer use it."""
    svc = services()
    try:
        entry = numbers.retire(svc.store, number, svc.region, on.date() if on else demo.today())
    except (Invalid, NotFound) as exc:
        _fail(exc)
    audit.record(svc.store, "cli", "registry_update", entry["number"], detail="retired")
    _print_entry(entry)


@numbers_cli.command("list")
def numbers_list():
    """List the registry."""
    svc = services()
    for entry in numbers.all_entries(svc.store, svc.region):
        _print_entry(entry)


@numbers_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
def numbers_export(fmt):
    """Write the registry to standard output (CSV that `numbers import` reads back, or JSON)."""
    svc = services()
    entries = numbers.all_entries(svc.store, svc.region)
    if fmt == "json":
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for entry in entries:
        writer.writerow(
            {
                **{field: entry.get(field) or "" for field in ("number", "purpose", "direction", "status", "retired_on", "notes")},
                "label_zh": entry["labels"]["zh"],
                "label_en": entry["labels"]["en"],
                "variants": ";".join(entry["variants"]),
            }
        )


@numbers_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def numbers_import(file):
    """Add or update entries from a CSV file with the columns of `numbers export`.

    Every row is checked first; nothing is written unless all rows are valid.
    """
    svc = services()
    reader = csv.DictReader(file)
    missing = {"number", "label_zh", "label_en", "purpose", "direction"} - set(reader.fieldnames or [])
    if missing:
        raise click.ClickException(f"missing columns: {', '.join(sorted(missing))}")
    rows = []
    for line, row in enumerate(reader, start=2):
        data = {
            "number": row["number"],
            "labels": {"zh": row["label_zh"], "en": row["label_en"]},
            "purpose": row["purpose"],
            "direction": row["direction"],
            "status": row.get("status") or "active",
            "retired_on": row.get("retired_on") or None,
            "variants": [item for item in (row.get("variants") or "").split(";") if item.strip()],
            "notes": row.get("notes") or "",
        }
        try:
            numbers.clean_entry(data, svc.region)
        except Invalid as exc:
            raise click.ClickException(f"line {line}: " + "; ".join(f"{f}: {m}" for f, m in exc.errors)) from None
        rows.append(data)
    for data in rows:
        try:
            numbers.get(svc.store, data["number"], svc.region)
        except NotFound:
            numbers.add(svc.store, data, svc.region)
            click.echo(f"added   {data['number']}")
        else:
            changes = {k: v for k, v in data.items() if k != "number"}
            numbers.update(svc.store, data["number"], changes, svc.region)
            click.echo(f"updated {data['number']}")


@keys_cli.command("create")
@click.option("--scope", type=click.Choice(apikeys.SCOPES), required=True)
@click.option("--name", required=True)
@click.option("--quiet", is_flag=True, help="print the key alone (for scripts)")
def keys_create(scope, name, quiet):
    """Create an API key; it is printed once and stored only as a hash."""
    try:
        key = apikeys.create(services().store, name, scope)
    except (Invalid, Conflict) as exc:
        _fail(exc)
    audit.record(services().store, "cli", "key_create", name, detail=scope)
    if quiet:
        click.echo(key)
    else:
        click.echo(f"API key {name} (scope {scope}):\n{key}\nStore it now: it cannot be shown again.")


@keys_cli.command("list")
def keys_list():
    """List API keys (names, scopes, dates; never the keys)."""
    for row in apikeys.list_keys(services().store):
        state = f"revoked {row['revoked']}" if row["revoked"] else "active"
        click.echo(f"{row['name']:<24} {row['scope']:<9} created {row['created']}  {state}")


@keys_cli.command("revoke")
@click.argument("name")
def keys_revoke(name):
    """Revoke an API key by name: it stops working at once."""
    _cut_off(apikeys.revoke, name, "key_revoke", "revoked")


@sms_cli.command("simulate")
@click.option("--from", "sender", required=True, help="the borrower's phone, e.g. +8613800138000")
@click.argument("body")
def sms_simulate(sender, body):
    """Send BODY to /sms/inbound as Twilio would (correctly signed) and print the reply."""
    svc = services()
    if not svc.twilio.can_validate:
        raise click.ClickException("set TWILIO_AUTH_TOKEN (any value, for a local try-out) first")
    base = svc.public_url or "http://localhost"
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"] or "AC" + "0" * 32,
        "From": sender,
        "To": current_app.config["VERIFY_SMS_NUMBER"],
        "Body": body,
        "NumMedia": "0",
    }
    headers = {"X-Twilio-Signature": svc.twilio.sign(base + "/sms/inbound", form)}
    response = current_app.test_client().post("/sms/inbound", data=form, headers=headers, base_url=base)
    click.echo(f"HTTP {response.status_code}")
    click.echo(response.get_data(as_text=True))


@staff_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(staff.ROLES), required=True,
              help="support reviews reports; admin also manages numbers, staff and keys; agent: agent console")
@click.option("--generate", is_flag=True, help="generate a password and show it once instead of asking")
def staff_create(name, role, generate):
    """Create a staff account (argon2id password hash)."""
    password = secrets.token_urlsafe(15) if generate else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff.create(services().store, name, role, password)
    except (Invalid, Conflict) as exc:
        _fail(exc)
    audit.record(services().store, "cli", "staff_create", name, detail=role)
    click.echo(f"staff {name} ({role}) created" + (f"; password (shown once): {password}" if generate else ""))


@staff_cli.command("list")
def staff_list():
    """List staff accounts."""
    for row in staff.all_staff(services().store):
        state = f"disabled {row['disabled']}" if row.get("disabled") else "active"
        click.echo(f"{row['name']:<20} {row['role']:<8} created {row['created']}  {state}")


@staff_cli.command("disable")
@click.argument("name")
def staff_disable(name):
    """Disable an account: its logins stop working at once."""
    _cut_off(staff.disable, name, "staff_disable", "disabled")


def _cut_off(action, name, audit_action, done):
    # Revoking a key and disabling an account: the same steps, audited, a clear error if unknown.
    try:
        action(services().store, name)
    except NotFound as exc:
        _fail(exc)
    audit.record(services().store, "cli", audit_action, name)
    click.echo(f"{done} {name}")


def register(app):
    """Attach the commands to ``app``."""
    app.cli.add_command(seed_demo)
    app.cli.add_command(numbers_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(sms_cli)
    app.cli.add_command(staff_cli)
