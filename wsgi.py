"""Entry point for servers and the flask CLI: ``flask --app wsgi run``, ``gunicorn wsgi:app``."""

from verify import create_app

app = create_app()
