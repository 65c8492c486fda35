"""The report queue in a real headless Chromium (issue 15, must-show 7): a day's 200 reports, many
written to break the page, one line each at 1280x800; cards without horizontal scrolling at 375x812;
bulk changes with the "saved" message; next/previous through a filtered queue."""

import time
from pathlib import Path

import pytest

from verify.services.actor import CLI, Actor

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
LONG_NAME = "a-support-account-with-32-chars"
# What reporters (scammers among them) can write: markup, unbroken strings, right-to-left text,
# stacked combining marks, line breaks, a formula.
TEXTS = [
    '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">要验证码',
    "A" * 2000,
    "https://evil.example/" + "x" * 300 + "?code=123456",
    "שלום עולם مرحبا بالعالم " * 30,
    "Z\u0336\u0337\u0338\u0334\u0335" * 120,
    "第一行\n\n\n第二行\n\t第三行" * 40,
    "=HYPERLINK(\"http://evil.example\")",
    "对方自称OK钱包客服，说要注销校园贷，让我把验证码告诉他",
    "",
]
NUMBERS = ["021-6080-0000", "13912345678", "+44 20 7946 0958", "021-9999-8888", "+1 212 555 0100"]


@pytest.fixture
def day_of_reports(app):
    """200 reports over the last day (the queue's daily load), some assigned to a long staff name."""
    svc = app.extensions["verify"]
    svc.staff.create(CLI, "sam", "support", PASSWORD)
    svc.staff.create(CLI, LONG_NAME, "support", PASSWORD)
    now, ids = int(time.time()), []
    for i in range(200):
        data = {"number": NUMBERS[i % len(NUMBERS)], "text": TEXTS[i % len(TEXTS)], "channel": ("call", "sms")[i % 2],
                "categories": ["sms_code", "transfer", "screen_share", "cancel_account", "police_court"][: i % 6]}
        if i % 3 != 2:
            data["amount_lost"] = f"{9999999999.99 / (i + 1):.2f}"  # the largest amount a report may give, and less
        ids.append(svc.intake.file(data, ("web", "api", "sms")[i % 3], Actor("public", f"10.0.{i}.1"), now=now - i * 400)[0])
    for report_id in ids[::4]:
        svc.review.review(Actor("sam"), report_id, "confirmed_scam" if report_id in ids[::8] else "reviewing", LONG_NAME)
    return ids


def staff_page(browser, live, width, height, lang="zh"):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": lang, "url": live.url}])
    page = context.new_page()
    page.goto(live.url + "/dashboard/login")
    page.fill("#name", "sam")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return context, page


# Every text line in each cell: a cell whose text has two line tops has wrapped.
MEASURE = """() => {
  const rows = [...document.querySelectorAll('table.queue tbody tr')];
  const wrapped = [];
  for (const td of document.querySelectorAll('table.queue tbody td')) {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    const tops = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) if (rect.width > 0) tops.push(rect.top);
    }
    if (tops.length && Math.max(...tops) - Math.min(...tops) > 4) wrapped.push(td.innerText.slice(0, 40));
  }
  // References, times, numbers (with "ours"), statuses, amounts, sources, channels: never cut short.
  const clipped = [...document.querySelectorAll('table.queue td.whole, table.queue thead th')]
    .filter(cell => cell.scrollWidth > cell.clientWidth).map(cell => cell.innerText);
  const heights = rows.map(r => r.getBoundingClientRect().height);
  const line = parseFloat(getComputedStyle(rows[0].children[1]).lineHeight);
  return {rows: rows.length, clipped, lowest: Math.min(...heights), highest: Math.max(...heights), line, wrapped,
          onScreen: rows.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length,
          scrollWidth: document.documentElement.scrollWidth, title: document.title,
          images: document.querySelectorAll('main img, main script:not([src^="/static/"])').length};
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_days_reports_are_one_line_each_at_1280(browser, live, day_of_reports, lang):
    context, page = staff_page(browser, live, 1280, 800, lang)
    try:
        page.goto(live.url + "/dashboard/reports?limit=200")
        found = page.evaluate(MEASURE)
        assert found["rows"] == 200
        assert found["wrapped"] == []  # no reference, number, time or text broken over two lines
        assert found["clipped"] == []  # and none of the values that must be whole cut short
        assert found["highest"] - found["lowest"] < 1 and found["highest"] <= found["line"] + 12, found
        assert found["scrollWidth"] <= 1280  # nothing sticks out sideways
        assert found["title"] != "pwned" and found["images"] == 0
        page.evaluate("window.scrollTo(0, document.querySelector('table.queue').offsetTop)")
        assert page.evaluate("[...document.querySelectorAll('table.queue tbody tr')].filter(r => { const b = r.getBoundingClientRect();"
                             " return b.top >= 0 && b.bottom <= innerHeight; }).length") >= 20  # was ~5
        # Text cut short keeps its whole in the title; the number of one of ours says so.
        cell = page.locator("table.queue tbody tr").filter(has_text="AAAA").first.locator("bdi")
        assert cell.get_attribute("title").startswith("AAAA") and cell.evaluate("e => e.parentElement.scrollWidth > e.parentElement.clientWidth")  # cut, with an ellipsis
        assert page.locator("table.queue .tag-ours").count() == 40
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"dashboard-queue-1280-{lang}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_queue_is_cards_without_sideways_scrolling_at_375(browser, live, day_of_reports, lang):
    context, page = staff_page(browser, live, 375, 812, lang)
    try:
        page.goto(live.url + "/dashboard/reports")
        found = page.evaluate("""() => ({
          scrollWidth: document.documentElement.scrollWidth,
          display: getComputedStyle(document.querySelector('table.queue tbody tr')).display,
          // every card, line, field and button within the screen (text inside a line may be cut with an ellipsis)
          widest: Math.max(...[...document.querySelectorAll('main > *, main form > *, table.queue tr, table.queue td, main .field, main button, main .button')]
                               .map(e => e.getBoundingClientRect().right)),
          title: document.title,
          // the filter and bulk forms' fields stay inside their cards
          outside: [...document.querySelectorAll('.compact .field input, .compact .field select')]
                   .filter(e => { const card = e.closest('.compact');
                     return e.getBoundingClientRect().right > card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight); }).length})""")
        assert found["display"] == "block" and found["title"] != "pwned" and found["outside"] == 0, found
        assert found["scrollWidth"] <= 375 and found["widest"] <= 375, found
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"dashboard-queue-375-{lang}.png"), full_page=False)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_report_with_a_hostile_text_fits_a_phone(browser, live, app, day_of_reports, lang):
    wide = "\uff0b\uff18\uff16\u3000\uff10\uff12\uff11\u3000\uff19\uff19\uff19\uff19\u3000\uff18\uff18\uff18\uff18" + "\u3000" * 20
    typed = app.extensions["verify"].intake.file({"number": wide}, "web", Actor("public", "10.9.9.9"))[0]  # full-width, wide spaces
    context, page = staff_page(browser, live, 375, 812, lang)
    try:
        for report_id in [typed, *day_of_reports[: len(TEXTS)]]:  # and one report of each text
            page.goto(live.url + f"/dashboard/reports/{report_id}?status=new")
            found = page.evaluate("""() => ({scrollWidth: document.documentElement.scrollWidth, title: document.title,
                                             markup: document.querySelectorAll('main img, main script').length,
                                             broken: [...document.querySelectorAll('.details .one-line')]
                                                     .filter(e => e.getClientRects().length > 1 || e.getBoundingClientRect().height > 30).length,
                                             cut: [...document.querySelectorAll('.details a.one-line, .details dd > .one-line:only-child')]
                                                  .filter(e => e.scrollWidth > e.clientWidth).map(e => e.innerText)})""")
            assert found["scrollWidth"] <= 375 and found["markup"] == 0 and found["title"] != "pwned", (report_id, found)
            assert found["broken"] == 0  # numbers, times and amounts each on one line
            assert found["cut"] == []  # and whole (only what a reporter typed may end in an ellipsis)
        page.goto(live.url + f"/dashboard/reports/{day_of_reports[7]}?status=new")  # a Chinese text, with neighbours
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"dashboard-report-375-{lang}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 812)])
def test_bulk_change_in_the_browser_says_saved(browser, live, app, day_of_reports, width, height):
    context, page = staff_page(browser, live, width, height, "en")
    try:
        page.goto(live.url + "/dashboard/reports?status=new")
        rows = page.locator("table.queue tbody tr")
        chosen = [rows.nth(i).get_attribute("id")[4:] for i in (0, 2)]
        for report_id in chosen:
            page.get_by_label(f"Select report {report_id}").check()
        page.select_option("#bulk-status", "not_scam")
        page.select_option("#bulk-assignee", "sam")
        page.get_by_role("button", name="Apply to the selected reports").click()
        page.wait_for_load_state()
        assert page.url.endswith("/dashboard/reports?status=new")
        saved = page.get_by_role("status")
        assert saved.inner_text() == "Saved: 2 reports changed." and saved.is_visible()
        assert page.evaluate("document.activeElement.id") == "saved"  # focused, so it is read out
        review = app.extensions["verify"].review
        assert {(review.get(i)["status"], review.get(i)["assignee"]) for i in chosen} == {("not_scam", "sam")}
        assert page.locator(f"#row-{chosen[0]}").count() == 0  # no longer new
        # Nothing selected: the reason on top, nothing changed.
        page.select_option("#bulk-status", "duplicate")
        page.get_by_role("button", name="Apply to the selected reports").click()
        page.wait_for_load_state()
        assert "Select at least one report" in page.get_by_role("alert").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_select_every_report_on_the_page(browser, live, app, day_of_reports, js):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=js)
    context.add_cookies([{"name": "lang", "value": "en", "url": live.url}])
    page = context.new_page()
    try:
        page.goto(live.url + "/dashboard/login")
        page.fill("#name", "sam")
        page.fill("#password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        page.goto(live.url + "/dashboard/reports?status=reviewing")
        select_all = page.get_by_label("Select every report on this page")
        if not js:  # without the script the box would do nothing, so it is not shown
            assert not select_all.is_visible()
            return
        select_all.check()
        assert page.locator('table.queue input[name="report"]:checked').count() == 25
        page.select_option("#bulk-status", "duplicate")
        page.get_by_role("button", name="Apply to the selected reports").click()
        page.wait_for_load_state()
        assert page.get_by_role("status").inner_text() == "Saved: 25 reports changed."
        assert page.locator("table.queue tbody tr").inner_text() == "No reports match."
    finally:
        context.close()


def test_next_and_previous_in_the_browser_follow_the_filtered_queue(browser, live, day_of_reports):
    context, page = staff_page(browser, live, 1280, 800, "en")
    try:
        page.goto(live.url + "/dashboard/reports?status=reviewing")
        listed = [row.get_attribute("id")[4:] for row in page.locator("table.queue tbody tr").all()]
        assert len(listed) == 25
        page.get_by_role("link", name=listed[0], exact=True).click()
        for expected in listed[1:4]:
            page.get_by_role("link", name="Next (older) →").click()
            page.wait_for_load_state()
            assert f"/dashboard/reports/{expected}?status=reviewing" in page.url
        page.get_by_role("link", name="← Previous (newer)").click()
        page.wait_for_load_state()
        assert f"/dashboard/reports/{listed[2]}?" in page.url
        page.get_by_role("button", name="Save").click()  # saving keeps the place and says so
        page.wait_for_load_state()
        assert page.get_by_role("status").inner_text() == "Saved." and f"/dashboard/reports/{listed[2]}?status=reviewing" in page.url
        page.get_by_role("link", name="Back to the queue").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/dashboard/reports?status=reviewing#row-{listed[2]}")
    finally:
        context.close()
