"""Bulk loaders for the benchmark's big stores (and imports): many sessions or reports written in
pipelined batches through the same storage layout, and the report write's own Lua script."""

from verify.registry.limits import Limits
from verify.registry.numbers import Numbers
from verify.registry.reports import Reports
from verify.registry.sessions import RETAIN_SECONDS, SessionFields, Sessions
from verify.services.reports import new_id


def load_sessions(store, hmac_key, rows, now, ttl, batch=5000):
    """Write many sessions with given codes; times from ``now`` (this process's clock), not Redis's.

    ``rows``: iterable of ``(borrower e164, caller e164, callers, agent_id, agent_name, purpose, code)``.
    """
    sessions = Sessions(store, Limits(store, hmac_key), hmac_key)
    pipe = store.redis.pipeline(transaction=False)
    count = 0
    for borrower, caller, callers, agent_id, agent_name, purpose, code in rows:
        tag = sessions.tag(borrower)
        key = sessions.session_key(tag)
        _suffix, fields = sessions.stored_fields(tag, code, SessionFields(caller, tuple(callers), agent_id, agent_name, purpose))
        pipe.delete(key)
        pipe.hset(key, mapping={"ct": now, "ex": now + ttl, **fields})
        pipe.expire(key, ttl + RETAIN_SECONDS)
        count += 1
        if count % batch == 0:
            pipe.execute()
    pipe.execute()
    return count


def submit_reports(store, hmac_key, rows, batch=2000):
    """File many ``(record, now)`` pairs (records from ``services.reports.build_record``) through the
    report write's script, pipelined. A record whose id is taken gets a new one and goes again.
    Returns how many were filed."""
    reports = Reports(store, Numbers(store, "CN"), Limits(store, hmac_key))
    script = store.script("report_write")
    filed, pending = 0, []

    def flush():
        nonlocal filed
        with store.redis.pipeline(transaction=False) as pipe:
            for record, now in pending:
                script.queue_on(pipe, *reports.write_call(record, now))
            answers = pipe.execute()
        again = [(dict(record, id=new_id(now)), now) for (record, now), answer in zip(pending, answers, strict=True)
                 if answer[1] == "id_taken"]
        filed += len(pending) - len(again)
        pending[:] = again

    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            flush()
    while pending:
        flush()
    return filed
