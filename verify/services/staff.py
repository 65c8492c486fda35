"""Staff accounts for the dashboard: creating and disabling them, logging in with an atomic lockout,
and the server-side login sessions behind the dashboard's cookie."""

import functools
import re
import secrets
import time

from verify import times
from verify.errors import N_, Invalid, NotFound, RateLimited, Said
from verify.services import clients, passwords

ROLES = ("admin", "support", "agent")
MAX_FAILURES = 5  # tries on one name from one network
NETWORK_TRIES = 50  # tries on any names from one network: bounds the password hashing a client can cause
LOCKOUT_SECONDS = 900
LOCKED = N_("Too many failed logins: this account is locked for 15 minutes.")
SLOW_DOWN = N_("Too many logins from your network. Please wait 15 minutes and try again.")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
DISPLAY_NAME_MAX = 32  # as long as an API client's agent_name may be
NO_DISPLAY_NAME = N_("Your account has no display name, so borrowers could not be told who is calling: "
                     "ask an admin to set one (Staff page) before you start a session.")


class StaffAccounts:
    """Accounts, logins and login sessions; built once with the staff store, the limiter and the audit."""

    def __init__(self, staff, limits, audit, idle_seconds, absolute_seconds):
        self._staff = staff
        self._limits = limits
        self._audit = audit
        self._idle = idle_seconds
        self._absolute = absolute_seconds

    def create(self, actor, name, role, password, display_name=None):
        """Create an account with its ``display_name`` (what borrowers see, masked; optional) and an agent
        id of its own; ``Invalid`` for a bad name, role, display name or short password, ``Conflict`` if
        it exists."""
        errors = []
        shown = _display_name(display_name, errors, required=False)
        if not _NAME.match(name or ""):
            errors.append(("name", "use 2-32 lower-case letters, digits, dot, dash or underscore"))
        if role not in ROLES:
            errors.append(("role", f"must be one of {', '.join(ROLES)}"))
        if len(password or "") < passwords.MIN_LENGTH:
            errors.append(("password", f"must be at least {passwords.MIN_LENGTH} characters"))
        if errors:
            raise Invalid(errors)
        record = {"name": name, "role": role, "hash": passwords.hash_password(password), "created": times.iso(),
                  "disabled": "", "display_name": shown}
        self._staff.create(record)
        record["agent_id"] = self._staff.agent_id(name)
        self._audit.record(actor, "staff_create", name, role)
        return {k: v for k, v in record.items() if k != "hash"}

    def set_display_name(self, actor, name, display_name):
        """Change the name borrowers are shown (masked) for this account's new sessions. Audited;
        ``Invalid``, ``NotFound``."""
        errors = []
        shown = _display_name(display_name, errors, required=True)
        if errors:
            raise Invalid(errors)
        self.get(name)
        self._staff.set_fields(name, display_name=shown)
        self._audit.record(actor, "staff_update", name, f"display name {shown}")

    def agent(self, name):
        """Who an agent is to borrowers: ``{"name", "display_name", "agent_id"}``; ``Invalid`` while the
        account has no display name (a session would show the borrower nobody), ``NotFound``."""
        account = self.get(name)
        if not account.get("display_name"):
            raise Invalid([("display_name", NO_DISPLAY_NAME)])
        return {"name": name, "display_name": account["display_name"], "agent_id": self._staff.agent_id(name)}

    def get(self, name):
        """The account without its hash; ``NotFound``."""
        record = self._staff.get(name) if _NAME.match(name or "") else None
        if record is None:
            raise NotFound(f"no staff member {name!r}")
        return {k: v for k, v in record.items() if k != "hash"}

    def all(self, scan=False):
        """Every account (no hashes), by name; ``scan``: also accounts stored before the set of names
        (the CLI's listing, see ``registry.staff.Staff.names``)."""
        return [self.get(name) for name in self._staff.names(scan)]

    def enabled_with_role(self, *roles):
        """The names of the enabled accounts with one of ``roles``, sorted (without scanning the store)."""
        return [name for name, (role, disabled) in self._staff.roles().items() if role in roles and not disabled]

    def disable(self, actor, name):
        """Disable an account: its login sessions stop working at their next use. Audited."""
        self.get(name)
        self._staff.set_fields(name, disabled=times.iso())
        self._audit.record(actor, "staff_disable", name)

    def _lockout(self, name, net):
        # A name is locked for the network that failed on it, not for everyone: a stranger cannot keep
        # a named person out.
        return "staff", f"login:{self._limits.subject('staff', f'{name}|{net}')}", [(MAX_FAILURES, LOCKOUT_SECONDS)]

    def _check_tries(self, actor, name):
        # Every try is counted before the password is hashed, so tries made at once cannot pass a limit
        # together. Refusals are audited once per window, not per try (the log cannot be flooded).
        net = clients.network(actor.ip)
        tries = self._limits.hit("staff", f"login-net:{self._limits.subject('net', net)}", [(NETWORK_TRIES, LOCKOUT_SECONDS)])
        if tries.count > NETWORK_TRIES:
            if tries.count == NETWORK_TRIES + 1:
                self._audit.record(actor, "login_failed", detail="network limited")
            raise RateLimited(tries.retry_after, SLOW_DOWN)
        on_name = self._limits.hit(*self._lockout(name, net))
        if on_name.count > MAX_FAILURES:
            if on_name.count == MAX_FAILURES + 1:
                self._audit.record(actor, "login_failed", detail="locked")
            raise RateLimited(on_name.retry_after, LOCKED)
        return net

    def log_in(self, actor, name, password):
        """A new login session ``(sid, account)`` for the right name and password, else ``Invalid``;
        ``RateLimited`` once a name had five failed tries from the client's network in 15 minutes
        (whatever the password), or the network 50 tries on any names. A success clears the name's
        count. An unknown name costs the same hashing time as a known one.
        """
        net = self._check_tries(actor, name)
        record = (self._staff.get(name) if _NAME.match(name or "") else None) or {}
        stored = record.get("hash") or _dummy_hash()
        if not (passwords.check_password(stored, password or "") and record and not record.get("disabled")):
            self._audit.record(actor, "login_failed", detail="wrong")
            raise Invalid([("password", N_("Wrong name or password."))])
        self._limits.clear(*self._lockout(name, net))
        if passwords.needs_rehash(stored):
            self._staff.set_fields(name, hash=passwords.hash_password(password))
        account = {"name": record["name"], "role": record["role"]}
        sid = secrets.token_urlsafe(32)
        self._staff.start_session(account, sid, self._idle)
        self._audit.record(actor, "login")
        return sid, account

    def resume(self, sid):
        """The account of a live login session (renewing its idle timeout), or None when it is gone,
        too old, or its account was disabled."""
        if not sid or len(sid) > 100:
            return None
        record = self._staff.touch_session(sid, self._idle)
        if record is None or record["disabled"]:
            return None
        if time.time() - int(record["created"]) > self._absolute:
            self._staff.end_session(sid)
            return None
        return {"name": record["name"], "role": record["role"], "sid": sid}

    def log_out(self, actor, sid):
        """End a login session: its cookie is worthless from now on. Audited."""
        self._staff.end_session(sid)
        self._audit.record(actor, "logout")


def _display_name(value, errors, required):
    # Shown to borrowers masked (its first character and two stars) and to staff in full.
    shown = " ".join((value or "").split())
    if not shown:
        if required:
            errors.append(("display_name", N_("enter the name borrowers should see")))
    elif len(shown) > DISPLAY_NAME_MAX or not shown.isprintable():
        errors.append(("display_name", Said(N_("use at most %(max)s printable characters"), max=DISPLAY_NAME_MAX)))
    return shown


@functools.cache
def _dummy_hash():
    # Checked against when the name is unknown, so timing does not tell which names exist.
    return passwords.hash_password(secrets.token_hex(16))
