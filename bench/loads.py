"""What `bench/run.py` seeds and sends: a fast bulk loader and the wrk scripts of each endpoint."""

import json
import re
import time
import urllib.error
import urllib.request
from collections import namedtuple
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench import bulk, floors
from verify import phones
from verify.app import build_services
from verify.registry.limits import Limits
from verify.registry.sessions import Sessions
from verify.registry.store import Store, connect
from verify.services import demo
from verify.services.actor import CLI
from verify.services.reports import build_record
from verify.settings import load

SECRET = "bench-secret-key-of-at-least-32-bytes"
HMAC_KEY = "bench-hmac-key-of-at-least-32-bytes"
TWILIO_TOKEN = "bench-twilio-token"
PUBLIC_URL = "https://verify.bench"
BRAND = {"brand": "OK钱包", "brand_en": "OK Wallet", "hotline": "400-000-9518", "sms": "10690009518"}
CALLER = "+862160800000"

# ``script``/``data``: wrk's script and the requests it reads (None for a plain GET); ``headers``: sent with
# every request (-H); ``content_type``: of the scripted requests' bodies.
Endpoint = namedtuple("Endpoint", "name path script data method content_type headers",
                      defaults=(None, None, "GET", None, None))
STAFF = ("bench-support", "bench support password")
USER_AGENT = "verify-bench"  # the login and the load must look like the same browser (session protection)


def borrower(i):
    return f"+86138{i:08d}"


def code(i):
    return f"{(i * 7919 + 13) % 1_000_000:06d}"


def seed(redis, sessions, reports_count, keep=None):
    """Registry, ``sessions`` active sessions with known codes, ``reports_count`` reports (bulk, pipelined)."""
    store = Store(connect(url=redis.url, timeout=5.0))
    if keep is None:
        svc = build_services(load({}, {"VERIFY_SECRET_KEY": SECRET, "VERIFY_HMAC_KEY": HMAC_KEY}), store)
        demo.seed(svc, logins=False)
        svc.staff.create(CLI, STAFF[0], "support", STAFF[1])
    start = keep["sessions"] if keep else 0
    now = int(time.time())
    rows = ((borrower(i), CALLER, [CALLER, "+862160800099"], "A17", "王小明", "贷后回访", code(i))
            for i in range(start, start + sessions))
    bulk.load_sessions(store, HMAC_KEY.encode(), rows, now, ttl=3600)
    _bulk_reports(store, reports_count, now)
    return {"sessions": start + sessions}


def _bulk_reports(store, count, now):
    numbers = [phones.parse(f"+86139{i:08d}") for i in range(1000)]

    def rows():
        for i in range(count):
            report = {"phone": numbers[i % 1000], "number_raw": numbers[i % 1000].display, "channel": "call",
                      "categories": ["sms_code"], "text": "自称客服，要验证码", "occurred_at": None,
                      "amount_lost": None, "reporter": None}
            when = now - i % 86400
            yield build_record(HMAC_KEY.encode(), report, "api", when, client_ip=f"10.{i % 250}.0.1"), when

    bulk.submit_reports(store, HMAC_KEY.encode(), rows())


def _posted(workdir, name, file, path, requests):
    """An endpoint wrk loads with ``requests`` ([(headers, body)]) POSTed in turn, from a given first
    one, the threads taking turns (a MessageSid sent twice would only measure the duplicate path).

    The requests go to a data file read at start: a Lua table literal of 60k bodies breaks LuaJIT.
    """
    content_type = requests[0][0]["Content-Type"]
    lines = [headers.get("X-Twilio-Signature", "-") + "\t" + body for headers, body in requests]
    make = f"""local headers = {{["Content-Type"] = "{content_type}"}}
    if sig ~= "-" then headers["X-Twilio-Signature"] = sig end
    reqs[#reqs + 1] = wrk.format("POST", "{path}", headers, body)"""
    return _scripted(workdir, file, lines, make, Endpoint(name, path, None, None, "POST", content_type))


def _got(workdir, name, file, paths):
    """An endpoint wrk loads with GETs of ``paths`` in turn, as ``_posted`` sends its bodies."""
    make = 'reqs[#reqs + 1] = wrk.format("GET", body)'
    return _scripted(workdir, file, ["-\t" + path for path in paths], make, Endpoint(name, paths[0]))


def _scripted(workdir, file, lines, make, endpoint):
    # The data file (a signature or "-", a tab, the body or path) and the wrk script that sends its
    # lines in turn, each made into a request by the Lua statements ``make`` (from ``sig`` and ``body``).
    data = workdir / f"{file}.tsv"
    data.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    script = workdir / f"{file}.lua"
    script.write_text(f"""
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
local reqs = {{}}
local i, step = 0, 1
function init(args)
  for line in io.lines("{data}") do
    local sig, body = line:match("^([^\t]*)\t(.*)$")
    {make}
  end
  -- wrk ... -- <first> <threads>: the threads interleave over the requests from the first one not
  -- sent yet (the warm-up's), so none is sent twice unless the list runs out and starts over.
  step = tonumber(args[2]) or 1
  i = (tonumber(args[1]) or 0) + (tid or 1) - 1 - step
end
function request()
  i = i + step
  return reqs[(i % #reqs) + 1]
end
""", encoding="utf-8")
    return endpoint._replace(script=script, data=data)


def _verify_requests(first, count, right):
    head = {"Content-Type": "application/json"}
    return [(head, json.dumps({"phone": borrower(i), "code": code(i) if right else f"{(int(code(i)) + 1) % 1_000_000:06d}"}))
            for i in range(first, first + count)]


def _unknown_requests(count, run=0):
    # No session and a different phone each time (and each run): wrong codes spread so that no phone
    # reaches the lockout.
    head = {"Content-Type": "application/json"}
    return [(head, json.dumps({"phone": f"+86137{(run * count + i) % 10**8:08d}", "code": "123456"})) for i in range(count)]


def _sms_requests(senders, per_sender, run=0):
    validator = RequestValidator(TWILIO_TOKEN)
    url = PUBLIC_URL + "/sms/inbound"
    out = []
    for n in range(per_sender):
        for i in range(senders):
            # A new MessageSid per message and run: a repeated one would only test the duplicate path.
            form = {"MessageSid": f"SM{run:04x}{n:04x}{i:024x}", "AccountSid": "AC" + "0" * 32, "From": borrower(i),
                    "To": "+8610690009518", "Body": code(i), "NumMedia": "0"}
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": validator.compute_signature(url, form)}
            out.append((headers, urlencode(form)))
    return out


def _report_requests(count):
    head = {"Content-Type": "application/json"}
    return [(head, json.dumps({"number": f"+86135{i:08d}", "categories": ["transfer"], "text": "要我转账到安全账户"}))
            for i in range(count)]


def dashboard_cookie(base_url):
    """Log the bench's support account in through the login form; the session cookie to send."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base_url + "/dashboard/login") as page:
        token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page.read().decode()).group(1)
        cookie = "; ".join(c.split(";")[0] for c in page.headers.get_all("Set-Cookie", []))
    form = urlencode({"name": STAFF[0], "password": STAFF[1], "csrf_token": token}).encode()
    request = urllib.request.Request(base_url + "/dashboard/login", data=form, headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    login = urllib.request.build_opener(NoRedirect)
    login.addheaders = [("User-Agent", USER_AGENT)]
    try:
        login.open(request)
    except urllib.error.HTTPError as answer:  # the 302 to the dashboard
        if answer.code != 302:
            raise
        return "; ".join(c.split(";")[0] for c in answer.headers.get_all("Set-Cookie", []))
    raise RuntimeError("the dashboard login did not redirect")


def endpoints(workdir, seeded, run=0, cookie=None):
    """The endpoints of the main table, the bare one first; ``run`` keeps each server's run fresh,
    ``cookie`` is a logged-in dashboard session (``dashboard_cookie``)."""
    n = min(seeded["sessions"], 1000)
    return [
        Endpoint("bare (GET /healthz)", "/healthz"),
        Endpoint("check official", "/api/v1/check?number=021-6080-0000"),
        Endpoint("check unknown", "/api/v1/check?number=13912345678"),
        _posted(workdir, "verify genuine", "genuine", "/api/v1/verify", _verify_requests(0, n, True)),
        _posted(workdir, "verify not_verified", f"unknown{run}", "/api/v1/verify", _unknown_requests(60000, run)),
        _posted(workdir, "sms inbound (code)", f"sms{run}", "/sms/inbound", _sms_requests(n, 120, run)),
        _posted(workdir, "report write", "report", "/api/v1/reports", _report_requests(20000)),
        Endpoint("home page", "/"),
        *([Endpoint("dashboard report queue", "/dashboard/reports",
                    headers={"Cookie": cookie, "User-Agent": USER_AGENT})] if cookie else []),
    ]


def floor_endpoints(workdir, seeded):
    """The floor run (bench/floors.py): the bare route, each floor, and next to it the endpoint it is
    the floor of, loaded with the same requests."""
    n = min(seeded["sessions"], 1000)
    verify, written = _verify_requests(0, n, True), _report_requests(20000)
    return [
        Endpoint("bare (GET /healthz)", "/healthz"),
        _posted(workdir, "floor: JSON in, JSON out", "floor-json", f"{floors.PREFIX}/json", verify),
        _posted(workdir, "floor of verify", "floor-lookup", f"{floors.PREFIX}/lookup", verify),
        _posted(workdir, "verify genuine", "genuine", "/api/v1/verify", verify),
        _posted(workdir, "floor of report write", "floor-write", f"{floors.PREFIX}/write", written),
        _posted(workdir, "report write", "report", "/api/v1/reports", written),
    ]


def cluster_endpoints(workdir, seeded):
    """The capacity run (``--cluster``), one kind of request at a time: number checks, code checks
    (right codes over every seeded session, so the borrowers' slots spread over the primaries) and
    report writes."""
    n = min(seeded["sessions"], 1000)
    return [
        Endpoint("check official", "/api/v1/check?number=021-6080-0000"),
        Endpoint("check unknown", "/api/v1/check?number=13912345678"),
        # A number each time (20,000 in turn, none again within a second): what no process's copy of
        # the number facts helps with.
        _got(workdir, "check spread", "check-spread", [f"/api/v1/check?number=136{i:08d}" for i in range(20000)]),
        _posted(workdir, "verify genuine", "genuine", "/api/v1/verify", _verify_requests(0, n, True)),
        _posted(workdir, "report write", "report", "/api/v1/reports", _report_requests(20000)),
    ]


def scale_endpoints(workdir, seeded, run):
    """Check and verify, for the scale run: genuine codes spread over every seeded session."""
    total = seeded["sessions"]
    step = max(total // 1000, 1)
    head = {"Content-Type": "application/json"}
    spread = [(head, json.dumps({"phone": borrower(i), "code": code(i)})) for i in range(0, total, step)]
    return [
        Endpoint("check official", "/api/v1/check?number=021-6080-0000"),
        Endpoint("check unknown", "/api/v1/check?number=13912345678"),
        _posted(workdir, "verify genuine", f"genuine-{total}", "/api/v1/verify", spread),
        _posted(workdir, "verify not_verified", f"unknown-{run}", "/api/v1/verify", _unknown_requests(60000, run)),
    ]


def requests_of(endpoint, count=None):
    """``(method, path, headers, body)`` of the requests wrk sends for ``endpoint``, read back from its
    data file (all of them, or the first ``count``): for checking and in-process timing."""
    if endpoint.data is None:
        return [(endpoint.method, endpoint.path, endpoint.headers or {}, None)]
    out = []
    with endpoint.data.open(encoding="utf-8") as lines:
        for line in lines:
            signature, body = line.rstrip("\n").split("\t", 1)
            if endpoint.method == "GET":  # the line holds the path
                out.append(("GET", body, endpoint.headers or {}, None))
            else:
                headers = {"Content-Type": endpoint.content_type}
                if signature != "-":
                    headers["X-Twilio-Signature"] = signature
                out.append((endpoint.method, endpoint.path, headers, body))
            if count is not None and len(out) == count:
                break
    return out


def memory_per_session(redis, sample=2000):
    """MEMORY USAGE of the session hashes of ``sample`` seeded borrowers."""
    store = Store(connect(url=redis.url, timeout=5.0))
    sessions = Sessions(store, Limits(store, HMAC_KEY.encode()), HMAC_KEY.encode())
    with store.redis.pipeline(transaction=False) as pipe:
        for i in range(sample):
            pipe.memory_usage(sessions.session_key(sessions.tag(borrower(i))), samples=0)
        sizes = [s for s in pipe.execute() if s]
    return {"sample": len(sizes), "bytes_per_session": round(sum(sizes) / max(len(sizes), 1))}
