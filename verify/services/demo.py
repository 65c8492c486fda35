"""Demo data for `make run` and `.venv/bin/flask --app wsgi seed-demo`. Fictional, and labelled as demo."""

import datetime as dt
import secrets

from verify.errors import NotFound
from verify.services.actor import CLI

DEMO_NOTE = "DEMO DATA: fictional number for trying verify out."


def demo_entries(brand, hotline, sms_number):
    """The demo registry: callback line (with a display variant), inbound-only hotline, SMS, retired line."""
    return [
        {
            "number": "021-6080-0000",
            "labels": {"zh": f"{brand}回访专线（演示）", "en": "Callback line (demo)"},
            "purpose": "callback",
            "direction": "outbound",
            "variants": ["021-6080-0099"],
            "notes": DEMO_NOTE + " 021-6080-0099 is how the trunk sometimes shows.",
        },
        {
            "number": hotline,
            "labels": {"zh": f"{brand}客服热线（演示）", "en": "Customer hotline (demo)"},
            "purpose": "hotline",
            "direction": "inbound_only",
            "notes": DEMO_NOTE,
        },
        {
            "number": sms_number,
            "labels": {"zh": f"{brand}官方短信号码（演示）", "en": "Official SMS number (demo)"},
            "purpose": "sms",
            "direction": "both",
            "notes": DEMO_NOTE,
        },
        {
            "number": "021-6080-1111",
            "labels": {"zh": f"{brand}旧回访专线（演示，已停用）", "en": "Old callback line (demo, retired)"},
            "purpose": "callback",
            "direction": "outbound",
            "status": "retired",
            "retired_on": "2025-06-30",
            "notes": DEMO_NOTE,
        },
    ]


DEMO_KEYS = (("demo-callcentre", "sessions"), ("demo-registry", "registry"), ("demo-reports", "reports"))


# Login, role, display name (what borrowers see, masked): fictional.
DEMO_STAFF = (("demo-admin", "admin", "演示管理员"), ("demo-support", "support", None), ("demo-agent", "agent", "王小明"))


def seed(svc, logins=True):
    """Load the demo registry, one demo key per scope and one demo login per role, through the
    services (``svc``, the app's ``Services``), as the CLI would.

    Returns ``(added numbers, {key name: key}, {login name: password})``; numbers, keys and logins
    that exist are left as they are (keys and passwords are only known when made). ``logins=False``
    skips the logins (each costs an argon2 hash; the test suite seeds often).
    """
    brand = svc.settings.brand_texts
    added = []
    for entry in demo_entries(brand["brand"], brand["hotline"], brand["sms"]):
        try:
            svc.numbers.get(entry["number"])
        except NotFound:
            added.append(svc.numbers.add(CLI, entry)["number"])
    existing = {row["name"] for row in svc.keys.all()}
    keys = {name: svc.keys.create(CLI, name, scope) for name, scope in DEMO_KEYS if name not in existing}
    made = {}
    for name, role, display_name in DEMO_STAFF if logins else ():
        try:
            svc.staff.get(name)
        except NotFound:
            made[name] = secrets.token_urlsafe(12)
            svc.staff.create(CLI, name, role, made[name], display_name)
    return added, keys, made


def today():
    """Today's date (UTC), for retirements made from the CLI."""
    return dt.datetime.now(dt.UTC).date()


def banner(keys, brand, logins=None, base="http://127.0.0.1:5000"):
    """What `make run` prints: the demo keys and logins, and a few things to try, at ``base`` (the
    server's URL: make run's HOST and PORT)."""
    sessions_key = keys.get("demo-callcentre", "<a key of scope sessions>")
    return f"""
verify demo ({brand['brand']}) on {base}
  demo API keys: {', '.join(f'{name}={key}' for name, key in keys.items())}

Try:
  curl '{base}/api/v1/check?number=021-6080-0000'      # official, with the caller-ID caveat
  curl '{base}/api/v1/check?number={brand['hotline']}'       # inbound_only: any call from it is fake
  curl -s -X POST {base}/api/v1/sessions -H 'Authorization: Bearer {sessions_key}' \\
       -H 'Content-Type: application/json' \\
       -d '{{"borrower":"13800138000","caller":"021-6080-0000","agent_id":"A17","agent_name":"王小明","purpose":"贷后回访"}}'
  curl -s -X POST {base}/api/v1/verify -H 'Content-Type: application/json' \\
       -d '{{"phone":"13800138000","code":"<code from the answer above>"}}'
  API description: {base}/api/v1/openapi.json
  Web pages: {base}/   Staff dashboard: {base}/dashboard/ ({', '.join(f'{n} / {p}' for n, p in (logins or {}).items()) or '.venv/bin/flask --app wsgi staff create NAME --role admin'})
"""
