"""Staff logins for the dashboard: Flask-Login on top of server-side sessions in Redis, and the role
check every dashboard view makes. The only importer of flask_login."""

import functools

from flask import abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from verify.errors import StoreUnavailable
from verify.routes import labels, services
from verify.routes.i18n import _
from verify.services.actor import Actor

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
    # Flask-Login asks again whenever a template is rendered, error pages included: with the store down,
    # nobody is logged in for the rest of the request, and the view says the store failed (not "log in").
    try:
        account = services().staff.resume(sid)
    except StoreUnavailable:
        g.store_failed = True
        return None
    return StaffMember(account) if account else None


def actor():
    """Who is asking: the logged-in staff member (or nobody yet), from the client's IP."""
    return Actor(current_user.name if current_user.is_authenticated else "", request.remote_addr or "")


def log_in(name, password):
    """Log ``name`` in (``Invalid`` for a wrong name or password, ``RateLimited`` once locked): a
    server-side session whose id goes in the (signed) cookie. Returns the account."""
    sid, account = services().staff.log_in(Actor(name[:32], request.remote_addr or ""), name, password)
    session.clear()  # a fresh session on login: nothing from before carries over
    login_user(StaffMember({**account, "sid": sid}))
    return account


def log_out():
    """End the server-side session (a copied cookie stops working) and clear the cookie."""
    if current_user.is_authenticated:
        services().staff.log_out(actor(), current_user.id)
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
                if g.get("store_failed"):
                    raise StoreUnavailable("the store could not say who is logged in")
                return redirect(url_for("dashboard.login", next=request.full_path))
            if current_user.role not in roles:
                abort(403, description=_("You are logged in as %(name)s (%(role)s); this page is for %(roles)s only.",
                                         name=current_user.name, role=labels.named(current_user.role, "role"),
                                         roles=_(" and ").join(labels.named(r, "role") for r in roles)))
            g.staff = current_user
            return view(*args, **kwargs)

        return wrapper

    return decorate


def init_app(app, settings):
    """Flask-Login with strict session cookies."""
    secure = settings.production if settings.secure_cookies is None else settings.secure_cookies
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    app.session_interface = CookieSessions()
    manager = LoginManager(app)
    manager.login_view = "dashboard.login"
    manager.session_protection = "strong"
    manager.user_loader(_load)
