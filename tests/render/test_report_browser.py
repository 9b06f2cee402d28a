"""The HTML report in a real browser (Debian's chromium through playwright): search and filter the findings,
collapsed requirements, a phone-width layout, JavaScript off, print. Screenshots at 1280 and 390 px are kept in
the test's tmp directory (``--basetemp`` to find them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cybersafe.render._view import build_view
from cybersafe.render.html import render_html
from cybersafe.results import Assessment, load_assessment
from tests.render.helpers import REPO, REPORT_NOW

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--disable-quic",
]  # fmt: skip
EXAMPLE = REPO / "tests" / "golden" / "example-assessment.json"
# Every finding row the reader can see: verdict, severity, the schemes its check feeds, its text.
VISIBLE_ROWS = """() => Array.from(document.querySelectorAll("article.check tr[data-v]"))
  .filter(r => r.offsetParent !== null)
  .map(r => [r.dataset.v, r.dataset.s, r.closest("article").dataset.schemes, r.closest("article").textContent])"""
VISIBLE_CHECKS = """() => Array.from(document.querySelectorAll("article.check"))
  .filter(a => a.offsetParent !== null).map(a => [a.dataset.v, a.dataset.s, a.dataset.schemes, a.textContent])"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _write(assessment: Assessment, path: Path) -> str:
    path.write_text(render_html(assessment, now=REPORT_NOW), encoding="utf-8")
    return path.as_uri()


def _set_boxes(page: Any, name: str, keep: set[str]) -> None:
    for box in page.locator(f"#filters input[name={name}]").all():
        box.set_checked(box.get_attribute("value") in keep)


def _count(page: Any) -> str:
    text: str = page.locator("#f-count").inner_text()
    return text


def test_findings_filter_by_verdict_severity_scheme_and_search(
    browser: Any, sample: Assessment, tmp_path: Path
) -> None:
    # Given the sample report (every verdict, four severities, six schemes) open at desktop width
    view = build_view(sample, now=REPORT_NOW.isoformat())
    total = view.filters.total
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(_write(sample, tmp_path / "report.html"))
    # Then the filter form is shown (the script runs) and nothing is filtered yet
    assert page.locator("#filters").is_visible()
    assert _count(page).startswith(f"{total} of {total} findings shown")
    rows = page.evaluate(VISIBLE_ROWS)
    assert len(rows) == sum(len(c.findings) for c in sample.checks)

    # When only failing findings are asked for, Then only they remain, and the count says how many
    _set_boxes(page, "v", {"fail"})
    fails = dict(view.filters.verdicts)["fail"]
    assert _count(page).startswith(f"{fails} of {total} findings shown")
    assert {v for v, *_ in page.evaluate(VISIBLE_ROWS)} == {"fail"}
    assert {v for v, *_ in page.evaluate(VISIBLE_CHECKS)} <= {"fail", "error"}  # checks holding fails only

    # When high severity is left out too, Then no high finding is visible
    _set_boxes(page, "s", {"critical", "medium", "low", "info"})
    assert "high" not in {s for _, s, *_ in page.evaluate(VISIBLE_ROWS)}

    # When "Show all" is pressed, Then everything is back
    page.get_by_role("button", name="Show all").click()
    page.wait_for_function(f"document.getElementById('f-count').textContent.startsWith('{total} of')")

    # When one scheme is chosen, Then only checks that feed it are shown
    key = next(k for k, _ in view.filters.schemes if k.startswith("eu-cra"))
    page.select_option("#f-scheme", key)
    checks = page.evaluate(VISIBLE_CHECKS)
    assert checks and all(key in schemes.split() for _, _, schemes, _ in checks)
    expected = sum(max(1, len(c.findings)) for c in sample.checks if any(f.startswith(f"{key}:") for f in c.feeds))
    assert _count(page).startswith(f"{expected} of {total}")

    # When words are searched (any order, any case), Then every finding shown contains them all
    page.select_option("#f-scheme", "")
    page.fill("#f-q", "BUSYBOX cve")
    page.wait_for_function("!document.getElementById('f-count').textContent.startsWith('" + str(total) + " of')")
    found = page.evaluate(VISIBLE_ROWS)
    assert found and all("busybox" in text.lower() and "cve" in text.lower() for *_, text in found)

    # When nothing matches, Then the page says so instead of showing an empty section
    page.fill("#f-q", "no such finding anywhere")
    page.wait_for_selector("#f-none", state="visible")
    assert page.evaluate(VISIBLE_ROWS) == []

    # When "Problems only" is pressed, Then passes and not-applicable findings go
    page.fill("#f-q", "")
    page.get_by_role("button", name="Problems only").click()
    assert not {"pass", "not_applicable"} & {v for v, *_ in page.evaluate(VISIBLE_ROWS)}
    page.screenshot(path=str(tmp_path / "report-filtered-1280.png"), full_page=False)
    page.close()


def test_a_link_to_a_filtered_out_check_shows_it_and_requirements_open_on_demand(
    browser: Any, sample: Assessment, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(_write(sample, tmp_path / "report.html"))
    # Given requirement tables collapsed by default
    details = page.locator("details.reqs")
    assert details.count() > 0
    assert page.evaluate("Array.from(document.querySelectorAll('details.reqs')).every(d => !d.open)")
    assert not page.locator("details.reqs tbody tr").first.is_visible()
    # and the findings filtered to failures only
    _set_boxes(page, "v", {"fail"})
    # When a scheme's requirements are opened and a link to a passing check is followed
    details.first.locator("summary").click()
    link = page.locator("details.reqs[open] li:has(.v-pass) a[href^='#check-']").first
    target = link.get_attribute("href")
    assert target
    link.click()
    # Then the filters are cleared and the check is shown
    page.wait_for_function(f"document.getElementById('{target[1:]}').offsetParent !== null")
    assert page.locator("#f-count").inner_text().split()[0] == page.locator("#f-count").inner_text().split()[2]
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_example_report_at_desktop_and_phone_width(browser: Any, width: int, tmp_path: Path) -> None:
    # Given the example product's real assessment
    example = load_assessment(EXAMPLE)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(_write(example, tmp_path / "example.html"))
    # Then the summary is the first thing after the header, with a row per market and per scheme
    summary_top = page.locator("#summary").bounding_box()["y"]
    findings_top = page.locator("#findings").bounding_box()["y"]
    height = page.evaluate("document.documentElement.scrollHeight")
    assert summary_top < 600 and findings_top < height * 0.25, (summary_top, findings_top, height)
    assert page.locator("#summary table.summary tbody tr").count() == len(example.markets) + len(example.schemes)
    # and nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(tmp_path / f"example-{width}.png"), full_page=False)
    # When filtered to what needs work, Then only that is left, and the layout still fits the screen
    page.get_by_role("button", name="Problems only").click()
    left = page.evaluate(VISIBLE_ROWS)
    assert not {"pass", "not_applicable"} & {v for v, *_ in left}
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#findings").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / f"example-findings-{width}.png"), full_page=False)
    assert (tmp_path / f"example-{width}.png").stat().st_size > 10_000
    page.close()


def test_without_javascript_every_finding_is_shown_and_no_dead_control(
    browser: Any, sample: Assessment, tmp_path: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(_write(sample, tmp_path / "report.html"))
    assert not page.locator("#filters").is_visible()
    assert len(page.evaluate(VISIBLE_ROWS)) == sum(len(c.findings) for c in sample.checks)
    context.close()


def test_printing_from_the_browser_shows_every_requirement(browser: Any, sample: Assessment, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(_write(sample, tmp_path / "report.html"))
    _set_boxes(page, "v", {"fail"})
    page.emulate_media(media="print")
    # Then the collapsed requirement tables print open, and the filter form does not print
    assert page.locator("details.reqs tbody tr").first.is_visible()
    assert not page.locator("#filters").is_visible()
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF-")
    page.close()


def test_the_example_golden_is_an_assessment() -> None:
    # The browser test reads the example's golden assessment: it must stay loadable JSON of the current schema.
    assert json.loads(EXAMPLE.read_text(encoding="utf-8"))["schema"] == "cybersafe/assessment/v1"
