"""Languages of the web pages: Chinese by default, English on request. The only importer of flask_babel.

The language is chosen by ``?lang=`` (the visible switch, then remembered in a cookie), else the
cookie, else the browser's Accept-Language, else Chinese.
"""

from flask import g, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext, ngettext

LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
COOKIE = "lang"
COOKIE_SECONDS = 365 * 86400

# Re-exported for templates' helpers and forms: page texts are translated through the catalogs.
_ = gettext
_l = lazy_gettext
__all__ = ["_", "_l", "ngettext", "current_language", "remember_choice", "init_app"]


def current_language():
    """``zh`` or ``en`` for this request."""
    chosen = getattr(g, "lang", None)
    if chosen is None:
        chosen = request.args.get("lang") if request.args.get("lang") in LANGUAGES else None
        chosen = chosen or (request.cookies.get(COOKIE) if request.cookies.get(COOKIE) in LANGUAGES else None)
        chosen = chosen or request.accept_languages.best_match(["zh", "en"], default="zh")
        if chosen.startswith("zh"):
            chosen = "zh"
        g.lang = chosen
    return g.lang


def _locale():
    return LANGUAGES[current_language()]


def remember_choice(response):
    """After a request with ``?lang=``, keep the choice in a cookie."""
    if not request.query_string:
        return response
    lang = request.args.get("lang")
    if lang in LANGUAGES and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_SECONDS, samesite="Lax", secure=request.is_secure, httponly=True)
    return response


def init_app(app):
    """Install Flask-Babel with the catalogs in verify/translations."""
    Babel(app, locale_selector=_locale, default_locale="zh_Hans_CN", default_translation_directories="translations")
    app.after_request(remember_choice)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(current_language=current_language, get_locale=get_locale)
