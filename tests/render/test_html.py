"""HTML report: golden file, self-contained, escaped, accessible, every section present."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html.parser import HTMLParser

import pytest

from cybersafe.render import OutputFormat, render
from cybersafe.render._view import build_view, location_text
from cybersafe.render.html import render_html
from cybersafe.results import Assessment, LocationOut
from tests.render.helpers import GOLDEN
from tests.support import check_golden


@pytest.fixture(scope="module")
def html(sample: Assessment) -> str:
    from tests.render.helpers import REPORT_NOW

    return render(sample, OutputFormat.HTML, now=REPORT_NOW).decode()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    return parser


def test_html_report_matches_golden(html: str) -> None:
    check_golden(GOLDEN / "report.html", html)


def test_html_is_self_contained(html: str) -> None:
    # No stylesheet link, image, frame or script file fetched from anywhere: the file works offline. The one
    # script is inline and talks to nothing (no fetch, no XHR, no storage, no URL).
    tags = _parse(html).tags
    assert not [t for t, _ in tags if t in ("link", "img", "iframe", "object")]
    scripts = [a for t, a in tags if t == "script"]
    assert scripts == [{}]
    for _, attrs in tags:
        for name in ("src", "href", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), f"external reference {value!r}"
    assert "@import" not in html and "url(http" not in html
    script = html[html.index("<script>") : html.index("</script>")]
    for word in ("fetch(", "XMLHttpRequest", "localStorage", "sessionStorage", "http:", "https:", "import(", "eval("):
        assert word not in script


def test_hostile_text_is_escaped(html: str) -> None:
    # The sample has a finding message with a script tag in it (text from a firmware image is hostile).
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_sections_and_content(html: str, sample: Assessment) -> None:
    text = " ".join(_parse(html).text)
    for heading in (
        "Summary as of 2026-11-02",
        "Requirements and verdicts",
        "Missing evidence",
        "Marginal test plans",
        "Findings by check",
        "Artefacts and catalogs",
        "Problems met while collecting evidence",
        "Test once, reuse everywhere",
    ):
        assert heading in text
    # Locations of every kind, remediation, digests, problems, plans
    assert "/etc/shadow:3" in text and "/usr/bin/relayd@0x1f4a0" in text
    assert "tls://192.0.2.10:443" in text and "pkg:generic/busybox@1.30.1" in text
    assert "Upgrade busybox to 1.36.0 or later." in text
    assert "ab" * 32 in text
    assert "symlink escapes the extraction root" in text
    assert "sg-cls:1 → eu-cra" in text
    # The errored check is shown as an error and never as a pass
    assert "ValueError: unexpected banner" in text
    for scheme in sample.schemes:
        assert scheme.short_title in text


def test_accessibility_basics(html: str) -> None:
    tags = _parse(html).tags
    assert ("html", {"lang": "en"}) in tags
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in tags)
    # every column header declares its scope; the chart is an image with a title and a description
    assert all(a.get("scope") in ("col", "row") for t, a in tags if t == "th")
    assert any(t == "svg" and a.get("role") == "img" and a.get("aria-labelledby") for t, a in tags)
    # headings are nested in order: one h1, h2 sections, no h4 jumps
    levels = [int(t[1]) for t, _ in tags if re.fullmatch(r"h[1-6]", t)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))


def test_colour_is_never_the_only_signal(html: str) -> None:
    # Every verdict badge carries the verdict word next to its colour and symbol.
    badges = re.findall(r'<span class="v v-(\w+)"><span aria-hidden="true">.</span> ([\w ]+)</span>', html)
    assert badges
    for css, word in badges:
        assert word.replace(" ", "_") == css or (css == "not_applicable" and word == "not applicable")


def test_chart_bars_add_up_to_the_scheme_counts(sample: Assessment, report_now: dt.datetime) -> None:
    view = build_view(sample, now=report_now.isoformat())
    for scheme in view.schemes:
        assert sum(seg.count for seg in scheme.segments) == scheme.total
        if scheme.segments:
            assert abs(sum(seg.width for seg in scheme.segments) - view.chart["bar_width"]) < 0.1


def test_failing_and_errored_checks_come_first(sample: Assessment, report_now: dt.datetime) -> None:
    view = build_view(sample, now=report_now.isoformat())
    verdicts = [c.verdict for c in view.checks]
    assert verdicts[0] == "error"
    assert verdicts.index("pass") > max(i for i, v in enumerate(verdicts) if v == "fail")


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        pytest.param(LocationOut(path="/etc/shadow", line=3), "/etc/shadow:3", id="path-line"),
        pytest.param(LocationOut(path="/bin/x", offset=255), "/bin/x@0xff", id="path-offset"),
        pytest.param(LocationOut(host="10.0.0.1", port=22, protocol="ssh"), "ssh://10.0.0.1:22", id="host-port"),
        pytest.param(LocationOut(host="10.0.0.1"), "10.0.0.1", id="host"),
        pytest.param(LocationOut(component="pkg:npm/a@1"), "pkg:npm/a@1", id="component"),
    ],
)
def test_location_text(loc: LocationOut, text: str) -> None:
    assert location_text(loc) == text


def test_print_layout_has_no_disclosure_widgets(sample: Assessment, report_now: dt.datetime) -> None:
    printed = render_html(sample, now=report_now, print_layout=True)
    assert "<details" not in printed and "<nav" not in printed
    assert "busybox 1.30.1 is affected by CVE-2022-28391" in printed


def test_five_thousand_findings_render_as_rows(sample: Assessment, report_now: dt.datetime) -> None:
    # Given an assessment with one check carrying 5,000 failing findings (timing is bench/reports.py's job)
    data = sample.model_dump(mode="json", by_alias=True)
    finding = {"verdict": "fail", "severity": "high", "message": "hard-coded credential", "locations": [{"path": "/x"}]}
    data["checks"][0] = data["checks"][0] | {"verdict": "fail", "findings": [finding] * 5000}
    big = Assessment.model_validate(data)
    # When it is rendered for the screen and for print
    screen = render_html(big, now=report_now)
    printed = render_html(big, now=report_now, print_layout=True)
    # Then every finding is there: one table row each on screen, one line each in print
    assert screen.count('<td data-label="Finding">hard-coded credential') == 5000
    assert printed.count("✗ fail · high · hard-coded credential · /x") == 5000


def test_a_lab_result_recorded_for_a_check_is_shown_on_its_card(sample: Assessment) -> None:
    from tests.render.helpers import REPORT_NOW

    # Given the sample whose dossier records the lab's result for one of its checks (as the example does for the
    # default credentials its probe was locked out of), and a manual test that is not a check
    check = sample.checks[0]
    dossier = dict(sample.dossier)
    dossier["manual_results"] = [
        {"id": check.check_id, "verdict": "pass", "by": "Example Test Lab Ltd", "at": "2026-10-20",
         "summary": "the whole list tried with the lockout off <none accepted>"},
        {"id": "manual:cls.l4.penetration-test", "verdict": "pass", "by": "Lab", "at": "2026-10-20"},
    ]  # fmt: skip
    view = build_view(sample.model_copy(update={"dossier": dossier}), now=REPORT_NOW.isoformat())
    # Then that check's card says so, with who, when and what, and no other card does
    cards = {c.check_id: c.lab_result for c in view.checks}
    assert cards[check.key] == (
        "pass by Example Test Lab Ltd on 2026-10-20: the whole list tried with the lockout off <none accepted>"
    )
    assert sum(1 for v in cards.values() if v) == sum(1 for c in sample.checks if c.check_id == check.check_id)
    html = render_html(sample.model_copy(update={"dossier": dossier}), now=REPORT_NOW)
    assert "<strong>Lab result recorded for this check</strong> (manual_results): pass by Example Test Lab Ltd" in html
    assert "&lt;none accepted&gt;" in html
