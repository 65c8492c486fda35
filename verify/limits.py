"""Rate limits per client IP on the public pages, stored in verify's Redis. The only importer of
flask_limiter.

Never ``memory://`` (each worker would count alone) and never switched off when Redis fails: a
store error makes the page answer 503, like every other store error.
"""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many


def windows(rule):
    """``"5 per minute;30 per day"`` as ``[(5, 60), (30, 86400)]``: for limits kept inside a Lua call."""
    return [(item.amount, item.get_expiry()) for item in parse_many(rule)]


def storage_uri(redis_url, socket_path):
    """The limits library's URI for the same Redis the app uses."""
    if redis_url:
        return redis_url.replace("unix://", "redis+unix://", 1) if redis_url.startswith("unix://") else redis_url
    return f"redis+unix://{socket_path}"


def init_app(app, uri, prefix, timeout, rules):
    """Give ``app`` its own limiter on Redis and apply ``rules`` ({endpoint: "10 per minute"})."""
    limiter = Limiter(
        get_remote_address,
        storage_uri=uri,
        # Keys read verify:limits:LIMITER/<ip>/<endpoint>/...: one prefix for everything verify stores.
        storage_options={"socket_timeout": timeout, "socket_connect_timeout": timeout, "key_prefix": f"{prefix}limits"},
        swallow_errors=False,
        in_memory_fallback_enabled=False,
        headers_enabled=True,
        retry_after="delta-seconds",
    )
    limiter.init_app(app)
    for endpoint, rule in rules.items():
        app.view_functions[endpoint] = limiter.limit(rule)(app.view_functions[endpoint])
    # Only the decorated views are limited, and their wrappers check the limit themselves. The
    # global before_request hook would look every other request up too (~150 us each, /healthz
    # and the API included), so it is taken out.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    # Its header and clean-up hooks likewise only matter for the limited views.
    limited = set(rules)

    def only_limited(hook):
        return lambda *args: hook(*args) if request.endpoint in limited else (args[0] if args else None)

    for hooks in (app.after_request_funcs[None], app.teardown_request_funcs[None]):
        for position, hook in enumerate(hooks):
            if _belongs_to(hook, limiter):
                hooks[position] = only_limited(hook)
    return limiter


def _belongs_to(hook, limiter):
    # init_app adds a functools.partial over the limiter (headers) and a bound method (clean-up).
    owner = getattr(hook, "__self__", None)
    if owner is None and getattr(hook, "args", None):
        owner = hook.args[0]
    return owner is limiter
