"""Entry points: ``app`` for ``flask --app wsgi run`` and WSGI servers (``gunicorn wsgi:app``);
``serve()`` for ``make serve`` (``granian --factory wsgi:serve``, called in each worker): the app, and
``GET /healthz`` answered on ``VERIFY_HEALTH_ADDRESS`` by a thread of the worker (``verify.liveness``)."""

from verify import create_app, liveness
from verify.settings import host_and_port

app = create_app()


def serve():
    """The app, with this worker's liveness listener started when ``VERIFY_HEALTH_ADDRESS`` is set (it
    fails while a request of the worker is stuck: ``liveness.Watch``)."""
    address = app.extensions["verify"].settings.health_address
    if address:
        app.wsgi_app = watch = liveness.Watch(app.wsgi_app)
        try:
            liveness.start(*host_and_port(address), watch)
        except OSError as exc:  # taken by another program: one clear line, not a traceback per worker
            raise SystemExit(f"verify: cannot answer liveness probes on {address}: {exc.strerror}") from None
    return app
