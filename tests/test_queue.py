"""The report queue (issue 15, must-show 7): its columns, bulk status and assignee on selected rows (all
or none, audited per report, CSRF, roles), the "saved" message, next/previous on a report following
the queue's filters and order, and hostile report texts."""

import re
import time

import pytest

from verify.errors import Invalid
from verify.services.actor import CLI, Actor

PASSWORD = "correct horse battery"
CSRF = r'name="csrf_token"(?: type="hidden")? value="([^"]+)"'
HOUR = 3600


@pytest.fixture
def svc(app):
    svc = app.extensions["verify"]
    for name, role in (("ada", "admin"), ("sam", "support"), ("sue", "support"), ("aga", "agent")):
        svc.staff.create(CLI, name, role, PASSWORD, "王小明" if role == "agent" else None)
    return svc


def file(svc, number="021-9999-8888", at=None, source="web", ip="10.0.0.1", **fields):
    """A report filed as from the public (no rate limit), received at Unix time ``at``."""
    data = {"number": number, **fields}
    return svc.intake.file(data, source, Actor("public", ip), now=at)[0]


def logged_in(app, name, lang="en"):
    client = app.test_client()
    client.set_cookie("lang", lang)
    page = client.get("/dashboard/login").get_data(as_text=True)
    client.post("/dashboard/login", data={"name": name, "password": PASSWORD, "csrf_token": re.search(CSRF, page)[1]})
    client.csrf = re.search(CSRF, client.get("/dashboard/reports").get_data(as_text=True))[1]
    return client


def bulk(client, ids, query="", csrf=True, **fields):
    data = {"report": ids, **fields, **({"csrf_token": client.csrf} if csrf else {})}
    return client.post(f"/dashboard/reports/bulk{query}", data=data)


def stored(svc, report_id):
    return svc.review.get(report_id)


def audit(svc, action):
    return list(svc.audit.entries(action=action, limit=1000)[0])


# --- bulk changes ------------------------------------------------------------------------------------------
def test_bulk_status_and_assign_change_each_selected_report_and_audit_each(app, svc):
    ids = [file(svc, ip=f"10.0.{i}.1") for i in range(3)]
    client = logged_in(app, "sam")
    response = bulk(client, ids[:2], "?status=new&category=", status="reviewing", assignee="sue")
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/reports?status=new&category="  # the queue as it was
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<div class="saved" id="saved" role="status" aria-live="polite"[^>]*><p>Saved: 2 reports changed.</p>', page)
    assert "Saved" not in client.get("/dashboard/reports").get_data(as_text=True)  # said once
    for report_id in ids[:2]:
        report = stored(svc, report_id)
        assert (report["status"], report["assignee"]) == ("reviewing", "sue")
        assert [h["change"] for h in report["history"][1:]] == ["status new -> reviewing", "assigned to sue"]
        assert {h["by"] for h in report["history"][1:]} == {"sam"}
    assert (stored(svc, ids[2])["status"], stored(svc, ids[2])["assignee"]) == ("new", "")
    assert sorted((e["target"], e["detail"], e["who"]) for e in audit(svc, "report_status")) == sorted(
        (i, "new -> reviewing", "sam") for i in ids[:2])
    assert sorted(e["target"] for e in audit(svc, "report_assign")) == sorted(ids[:2])


def test_bulk_counts_only_the_reports_it_changed_and_can_unassign(app, svc):
    ids = [file(svc, ip=f"10.0.{i}.1") for i in range(3)]
    client = logged_in(app, "ada")
    bulk(client, ids[:1], assignee="sue")
    response = bulk(client, ids, assignee="sue")
    assert "Saved: 2 reports changed." in client.get(response.headers["Location"]).get_data(as_text=True)
    response = bulk(client, ids[:1], assignee="-")  # nobody
    assert "Saved: 1 report changed." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(svc, ids[0])["assignee"] == "" and stored(svc, ids[0])["history"][-1]["change"] == "assigned to nobody"


@pytest.mark.parametrize("fields, problem", [
    ({"status": "scam_lol"}, "That status does not exist."),
    ({"status": "reviewing", "assignee": "aga"}, "Reports can be assigned only to support and admin accounts."),
    ({"assignee": "nobody-here"}, "Reports can be assigned only to support and admin accounts."),
    ({}, "Choose a new status or an assignee for the selected reports."),
    ({"status": "", "assignee": ""}, "Choose a new status or an assignee for the selected reports."),
])
def test_an_invalid_bulk_change_is_refused_whole(app, svc, fields, problem):
    ids = [file(svc, ip=f"10.0.{i}.1") for i in range(3)]
    client = logged_in(app, "sam")
    response = bulk(client, ids, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert problem in page and 'role="alert"' in page and "<table" in page  # the queue, with the reason on top
    assert [stored(svc, i)["status"] for i in ids] == ["new"] * 3
    assert [stored(svc, i)["assignee"] for i in ids] == [""] * 3
    assert audit(svc, "report_status") == audit(svc, "report_assign") == []
    assert sorted(re.findall(r'value="([^"]+)" checked', page)) == sorted(ids)  # the selection kept, to correct and send again
    if fields.get("status") == "reviewing":
        assert '<option value="reviewing" selected>' in page and '<option value="aga" selected>' not in page  # aga is no choice


@pytest.mark.parametrize("extra, problem", [
    (["R000000-NOSUCH"], "One of the selected reports does not exist."),
    (["../../etc"], "One of the selected reports does not exist."),
    (["x" * 40], "One of the selected reports does not exist."),
])
def test_one_unknown_report_among_the_selected_changes_none(app, svc, extra, problem):
    ids = [file(svc, ip=f"10.0.{i}.1") for i in range(2)]
    client = logged_in(app, "sam")
    response = bulk(client, [ids[0], *extra, ids[1]], status="confirmed_scam")
    assert response.status_code == 400 and problem in response.get_data(as_text=True)
    assert [stored(svc, i)["status"] for i in ids] == ["new", "new"]
    assert audit(svc, "report_status") == []
    assert client.get("/check?number=021-9999-8888&lang=en").get_data(as_text=True).count('data-verdict="known_scam"') == 0


def test_nothing_selected_or_too_many_is_a_clear_400(app, svc):
    client = logged_in(app, "sam")
    response = bulk(client, [], status="reviewing")
    assert response.status_code == 400 and "Select at least one report" in response.get_data(as_text=True)
    response = bulk(client, [f"R261201-{i:06d}" for i in range(201)], status="reviewing")
    assert response.status_code == 400 and "Select at most 200 reports at once." in response.get_data(as_text=True)


def test_bulk_needs_csrf(app, svc):
    report_id = file(svc)
    client = logged_in(app, "sam")
    assert bulk(client, [report_id], csrf=False, status="not_scam").status_code == 400
    client.csrf = "forged"
    assert bulk(client, [report_id], status="not_scam").status_code == 400
    assert stored(svc, report_id)["status"] == "new" and audit(svc, "report_status") == []


@pytest.mark.parametrize("name, status", [("ada", 303), ("sam", 303), ("aga", 403)])
def test_only_support_and_admins_may_change_reports_in_bulk(app, svc, name, status):
    report_id = file(svc)
    client = logged_in(app, name)
    client.csrf = client.csrf if name != "aga" else re.search(CSRF, client.get("/dashboard/agent").get_data(as_text=True))[1]
    assert bulk(client, [report_id], status="not_scam").status_code == status
    assert stored(svc, report_id)["status"] == ("not_scam" if status == 303 else "new")


def test_anonymous_bulk_changes_nothing(app, svc):
    report_id = file(svc)
    client = app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    response = client.post("/dashboard/reports/bulk", data={"report": [report_id], "status": "not_scam",
                                                            "csrf_token": re.search(CSRF, page)[1]})
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert stored(svc, report_id)["status"] == "new"


def test_bulk_confirmations_keep_the_known_scam_mark_in_step(app, svc, client):
    # Two reports of one number confirmed together mark it; undone together, the mark goes.
    ids = [file(svc, ip=f"10.0.{i}.1") for i in range(2)]
    ours = file(svc, "021-6080-0000", ip="10.0.9.1")
    staff = logged_in(app, "sam")

    def verdict(number):
        return re.search(r'data-verdict="(\w+)"', client.get(f"/check?number={number}&lang=en").get_data(as_text=True))[1]

    assert bulk(staff, [*ids, ours], status="confirmed_scam").status_code == 303
    assert verdict("021-9999-8888") == "known_scam"
    assert verdict("021-6080-0000") == "official"  # ours: spoofed, never marked
    assert bulk(staff, ids, status="not_scam").status_code == 303
    assert verdict("021-9999-8888") != "known_scam"


# --- the queue's columns -----------------------------------------------------------------------------------
def test_the_queue_shows_assignee_amount_source_channel_and_our_numbers(app, svc):
    now = int(time.time())
    file(svc, "021-9999-8888", at=now - HOUR, amount_lost="12345.5", channel="sms", categories=["sms_code"])
    report_id = file(svc, "021-6080-0000", at=now, ip="10.0.2.1", source="api")
    svc.review.review(Actor("sam"), report_id, "reviewing", "sue")
    page = logged_in(app, "sam").get("/dashboard/reports").get_data(as_text=True)
    rows = re.findall(r"<tr id=\"row-[^>]*>(.*?)</tr>", page, re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]
    assert "Received (UTC+8)" in page  # the zone said once, in the column's head; each time whole in its title
    assert re.search(r'title="\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)">\d{4}-\d\d-\d\d \d\d:\d\d</span>', rows[0])
    assert cells[0][2:] == [
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[0][2])[0], "021 6080 0000 ours — being spoofed", "reviewing",
        "sue", "—", "API", "call", "—", "—"]
    assert cells[1][3:] == ["021 9999 8888", "new", "—", "12,345.50", "web", "SMS", "SMS or verification code", "—"]


def test_the_queues_assignees_are_enabled_support_and_admins_read_without_scanning_the_store(app, svc):
    svc.staff.disable(CLI, "sue")
    client = logged_in(app, "sam")
    scans = svc.store.redis.info("commandstats").get("cmdstat_scan", {}).get("calls", 0)
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert svc.store.redis.info("commandstats").get("cmdstat_scan", {}).get("calls", 0) == scans  # a big store stays fast
    offered = re.findall(r'<option value="([^"]*)"', page[page.index('id="bulk-assignee"'):page.index("</select>", page.index('id="bulk-assignee"'))])
    assert offered == ["", "-", "ada", "sam"]  # keep, nobody, then the reviewers: no agent, no disabled account
    assert bulk(client, [file(svc)], assignee="sue").status_code == 400


def test_the_queue_and_a_report_are_chinese_by_default(app, svc):
    report_id = file(svc, amount_lost="10", categories=["transfer"])
    client = logged_in(app, "sam", lang="zh")
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for words in ("举报", "指派给", "损失金额（元）", "来源", "渠道", "对选中的举报执行", "新", "转账"):
        assert words in page, words
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    for words in ("返回列表", "保存", "处理"):
        assert words in page, words
    response = bulk(client, [report_id], status="reviewing")
    assert "已保存：1 条举报已更改。" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("text", [
    '<script>document.title="pwned"</script><img src=x onerror=alert(1)>',
    "שלום עולם مرحبا بالعالم 12345 " * 20 + "\n\n\n" + "Z\u0336\u0337\u0338" * 100,  # right-to-left, line breaks, stacked marks
    "A" * 2000,
])
def test_hostile_report_texts_stay_text(app, svc, text):
    file(svc, text=text)
    with pytest.raises(Invalid):  # direction overrides and zero-width characters never get in
        file(svc, text="\u202egnp.exe\u202c\u200b")
    page = logged_in(app, "sam").get("/dashboard/reports").get_data(as_text=True)
    assert "<script>document" not in page and "<img src=x" not in page
    row = re.search(r"<tr id=\"row-.*?</tr>", page, re.S)[0]
    assert row.count("<bdi") == 1 and len(row) < 3000  # isolated from its neighbours, cut short


# --- the "saved" message and next/previous -----------------------------------------------------------------
def test_saving_a_report_says_saved_once_and_keeps_the_queue_filters(app, svc):
    report_id = file(svc)
    client = logged_in(app, "sam")
    url = f"/dashboard/reports/{report_id}?status=new&category=transfer"
    csrf = re.search(CSRF, client.get(url).get_data(as_text=True))[1]
    response = client.post(url, data={"csrf_token": csrf, "status": "reviewing", "assignee": "sam", "note": ""})
    assert response.status_code == 303 and response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'role="status"[^>]*><p>Saved.</p>', page)
    assert 'role="status"' not in client.get(url).get_data(as_text=True)


def neighbours(client, report_id, query=""):
    page = client.get(f"/dashboard/reports/{report_id}{query}").get_data(as_text=True)
    found = {}
    for name in ("newer", "older"):
        link = re.search(rf'id="{name}" href="/dashboard/reports/([^"?]+)(\?[^"]*)?"', page)
        found[name] = (link[1], (link[2] or "").replace("&amp;", "&")) if link else None
    return found


def test_next_and_previous_follow_the_queues_filters_and_order(app, svc):
    now = int(time.time())
    # Oldest first: statuses and categories alternate; two share a second (ordered by id, as the queue).
    plan = [("new", ["transfer"], 0), ("reviewing", ["sms_code"], 1), ("new", ["sms_code"], 2), ("new", ["transfer"], 3),
            ("reviewing", ["transfer"], 4), ("new", ["transfer"], 4), ("new", ["sms_code"], 5)]
    ids = []
    for i, (status, categories, minutes) in enumerate(plan):
        ids.append(file(svc, at=now - 600 + minutes * 60, ip=f"10.0.{i}.1", categories=categories))
        if status != "new":
            svc.review.review(Actor("sam"), ids[-1], status)
    client = logged_in(app, "sam")
    rows = re.findall(r'<tr id="row-([^"]+)"', client.get("/dashboard/reports?status=new&category=transfer").get_data(as_text=True))
    assert len(rows) == 3 and set(rows) == {ids[0], ids[3], ids[5]}
    query = "?status=new&category=transfer"
    walked, at = [rows[0]], neighbours(client, rows[0], query)
    assert at["newer"] is None
    while at["older"]:
        assert at["older"][1] == query  # the filters ride along
        walked.append(at["older"][0])
        at = neighbours(client, walked[-1], query)
    assert walked == rows  # next = the queue's next row, to the end
    back = [walked[-1]]
    at = neighbours(client, walked[-1], query)
    while at["newer"]:
        back.append(at["newer"][0])
        at = neighbours(client, back[-1], query)
    assert back == rows[::-1]
    # Unfiltered the walk visits every report, newest first, the two of one second in the queue's order.
    everything = re.findall(r'<tr id="row-([^"]+)"', client.get("/dashboard/reports").get_data(as_text=True))
    assert len(everything) == 7 and all(neighbours(client, a)["older"][0] == b for a, b in zip(everything, everything[1:], strict=False))
    assert neighbours(client, everything[-1])["older"] is None
    # A report outside the filters (opened from elsewhere) still leads into them.
    assert neighbours(client, ids[1], query)["older"][0] == ids[0]
    assert neighbours(client, ids[6], query)["newer"] is None


def test_next_and_previous_follow_a_number_and_dates(app, svc):
    now = int(time.time())
    a = file(svc, "13912345678", at=now - 3 * 86400, ip="10.0.1.1")
    file(svc, "021-9999-8888", at=now - 2 * 86400, ip="10.0.2.1")
    b = file(svc, "13912345678", at=now - 86400, ip="10.0.3.1")
    client = logged_in(app, "sam")
    query = "?number=13912345678"
    assert neighbours(client, b, query)["older"][0] == a and neighbours(client, a, query)["newer"][0] == b
    day = time.strftime("%Y-%m-%d", time.gmtime(now - 86400 + 8 * HOUR))  # the service's days are UTC+8
    assert neighbours(client, b, f"?since={day}")["older"] is None


def test_a_report_with_a_bad_filter_in_its_address_is_a_400_page(app, svc):
    report_id = file(svc)
    response = logged_in(app, "sam").get(f"/dashboard/reports/{report_id}?since=yesterday")
    assert response.status_code == 400 and "<html" in response.get_data(as_text=True)


def test_a_row_in_another_offset_than_the_column_head_names_its_own(make_app):
    app = make_app(VERIFY_TIMEZONE="Europe/Berlin")
    svc = app.extensions["verify"]
    svc.staff.create(CLI, "sam", "support", PASSWORD)
    summer, winter = 1792490400, 1796032800  # 2026-10-20 and 2026-11-30, 10:00 UTC
    file(svc, at=summer, ip="10.0.1.1")
    file(svc, at=winter, ip="10.0.2.1")
    page = logged_in(app, "sam").get("/dashboard/reports").get_data(as_text=True)
    assert "Received (UTC+1)" in page
    assert ">2026-11-30 11:00</span>" in page and ">2026-10-20 12:00 (UTC+2)</span>" in page


def test_a_bad_filter_is_named_in_the_pages_language(app, svc):
    """The queue's filter errors name the field as the form labels it, in Chinese by default."""
    html = logged_in(app, "sam", lang="zh").get("/dashboard/reports?since=yesterday").get_data(as_text=True)
    summary = html[html.index('class="error-summary"'):html.index("</ul>", html.index('class="error-summary"'))]
    assert "起始日期：" in summary or "起始日期:" in summary, summary
    assert "since" not in summary and not re.search("[A-Za-z]{4,}", summary.split("<ul>")[1]), summary
