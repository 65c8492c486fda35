"""The floor of each kind of work on this stack, for `make bench`: views added to the production app
(same hooks, settings and server) that do only what an endpoint of that kind cannot avoid.

- ``/bench-floor/json``: a JSON body in, a small JSON object out (every JSON POST pays this).
- ``/bench-floor/lookup``: the same plus a mobile number normalised with phonenumbers and the
  borrower's session read with one Lua call (its key is the HMAC of the number): what
  ``POST /api/v1/verify`` must do at the least (the issue's "prototype of the same work"), without
  the code's HMAC, lockout and success counting, or the answer's advice and session details.
- ``/bench-floor/write``: a report's number parsed and one Lua call writing a hash of a report's
  fields and its four index entries, the id answered: what ``POST /api/v1/reports`` must do at the
  least, without validation, per-IP limits, totals, reporter fingerprint or the spoofing signal.

The ratio of an endpoint to its floor says how much of its cost is its own work; the floor's ratio
to the bare route is as far as that endpoint could get on this machine. Never served outside the
bench: ``bench/floors_wsgi.py`` is the server's target for the floor run only.
"""

import json
import secrets
import time

from flask import jsonify, request

from verify import phones, times

PREFIX = "/bench-floor"

_READ = "return redis.call('HMGET', KEYS[1], 'cd', 'ex')"

_WRITE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
for i = 2, 5 do redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2]) end
return 1
"""

# A report's stored fields (services/reports.build_record) with the values the bench's reports get.
_REPORT = {"number_raw": "", "occurred_at": "", "received_at": "", "channel": "call", "categories": "", "text": "",
           "amount_lost": "", "contact_hmac": "", "contact_masked": "", "fingerprint": "0" * 32, "source": "api",
           "status": "new", "assignee": "", "notes": "[]", "history": "[]"}


def add_views(app):
    """Add the floor views to ``app`` (CSRF-exempt like the API)."""
    svc = app.extensions["verify"]
    store, region = svc.store, svc.settings.default_region
    read, write = store.redis.register_script(_READ), store.redis.register_script(_WRITE)
    hmac_key = svc.settings.hmac_key.encode()

    def floor_json():
        data = json.loads(request.get_data())
        return jsonify({"verdict": "x", "phone": data["phone"]})

    def floor_lookup():
        data = json.loads(request.get_data())
        phone = phones.normalise_mobile(data["phone"], region)
        code_hmac, _expires = read([store.key(phones.number_hmac(hmac_key, phone.e164, "borrower")[:24], "s")])
        return jsonify({"verdict": "genuine" if code_hmac else "not_verified", "phone": phone.e164})

    def floor_write():
        data = json.loads(request.get_data())
        phone = phones.parse_checked(data["number"], region)
        now = int(time.time())
        report_id = "F" + secrets.token_hex(5)
        stamp = times.iso(now)
        record = dict(_REPORT, id=report_id, number=phone.e164, occurred_at=stamp, received_at=stamp,
                      text=data.get("text", ""), categories=",".join(data.get("categories", [])))
        keys = [store.key("bench-floor", name) for name in
                (f"r:{report_id}", "by-time", "status:new", f"number:{phone.e164}", f"reporters:{phone.e164}")]
        write(keys, [now, report_id, *(item for pair in record.items() for item in pair)])
        return jsonify({"id": report_id, "received_at": stamp}), 201

    for name, view in (("json", floor_json), ("lookup", floor_lookup), ("write", floor_write)):
        view.__name__ = f"bench_floor_{name}"
        app.add_url_rule(f"{PREFIX}/{name}", view.__name__, view, methods=["POST"])
        app.extensions["csrf"].exempt(view)
    return app
