"""Staff logins for the dashboard: Flask-Login on top of server-side sessions in Redis, and the role
check every dashboard view makes. The only importer of flask_login."""

import functools

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from verify.registry import staff
from verify.services import services

SESSION_KEY = "staff_sid"


class StaffMember(UserMixin):
    """A logged-in staff member; the id is the server-side session id, not the name."""

    def __init__(self, account):
        self.id = account["sid"]
        self.name = account["name"]
        self.role = account["role"]


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per key set.

    Flask builds a new serializer on every request (and itsdangerous test-serialises an empty dict
    to build it): per-request set-up on every API call and SMS, though only pages use the cookie.
    """

    _cached = (None, None)

    def get_signing_serializer(self, app):
        """The serializer for the app's current secret key and fallbacks (rebuilt only if they change)."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._cached[0] != keys:
            self._cached = (keys, super().get_signing_serializer(app))
        return self._cached[1]


def _load(sid):
    cfg = current_app.config
    account = staff.resume_session(
        services().store, sid, cfg["VERIFY_STAFF_IDLE_MINUTES"] * 60, cfg["VERIFY_STAFF_MAX_HOURS"] * 3600
    )
    return StaffMember(account) if account else None


def log_in(account):
    """Start a server-side session for ``account`` and put its id in the (signed) cookie."""
    session.clear()  # a fresh session on login: nothing from before carries over
    sid = staff.start_session(services().store, account, current_app.config["VERIFY_STAFF_IDLE_MINUTES"] * 60)
    login_user(StaffMember({**account, "sid": sid}))


def log_out():
    """End the server-side session (a copied cookie stops working) and clear the cookie."""
    if current_user.is_authenticated:
        staff.end_session(services().store, current_user.id)
    logout_user()
    session.clear()


def who():
    """The current staff member's name, or None."""
    return current_user.name if current_user.is_authenticated else None


def require_role(*roles):
    """Allow the view to staff with one of ``roles``: anonymous -> login page, other roles -> 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("dashboard.login", next=request.full_path))
            if current_user.role not in roles:
                abort(403)
            g.staff = current_user
            return view(*args, **kwargs)

        return wrapper

    return decorate


def init_app(app, production):
    """Flask-Login with strict session cookies."""
    secure = app.config["VERIFY_SECURE_COOKIES"]
    app.config.update(
        SESSION_COOKIE_SECURE=production if secure is None else secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production if secure is None else secure,
    )
    app.session_interface = CookieSessions()
    manager = LoginManager(app)
    manager.login_view = "dashboard.login"
    manager.session_protection = "strong"
    manager.user_loader(_load)
