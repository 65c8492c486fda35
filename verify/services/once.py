"""Requests that take effect at most once: a client's ``Idempotency-Key`` (IETF draft
httpapi-idempotency-key-header) on the writes it may retry after a timeout. A retry with the same key
and the same content gets the first answer and writes nothing; the same key with other content is
refused."""

import hashlib
import hmac
import json
import re

from verify.errors import Invalid
from verify.registry.reports import Once

KEY_REUSED = "was sent before with a different request: use a new key for each new request"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def once_of(hmac_key, actor, idempotency_key, data):
    """A request's ``Once``: its Idempotency-Key under a keyed HMAC of the client, and a digest of its
    content ``data``; ``Invalid`` unless the key is 1 to 255 visible ASCII characters. The client is
    the API key for those that have one (a call centre retrying from another outgoing address is the
    same client), else the address."""
    if not _KEY.match(idempotency_key):
        raise Invalid([("Idempotency-Key", "must be 1 to 255 visible ASCII characters, e.g. a UUID")])
    client = actor.who if actor.who != "public" else f"public|{actor.ip}"
    subject = hmac.new(hmac_key, f"once|{client}|{idempotency_key}".encode(), hashlib.sha256)
    content = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return Once(subject.hexdigest()[:32], hashlib.sha256(content).hexdigest()[:32])
