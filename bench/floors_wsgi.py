"""The server's target for the bench's floor run only: the production app plus bench/floors.py."""

from bench.floors import add_views
from wsgi import app

add_views(app)
