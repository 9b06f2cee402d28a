"""The report's summary in words: per scheme and per market, the status as of the date, why, and what next.

Everything here reads the assessment only (``SchemeResultOut``, ``MarginalPlanOut``, ``MarketResultOut``): the
status is the evaluator's, never re-derived. "Why" counts the requirements that decide the status (those that
apply on the date and are required) apart from those that do not (recommendations, conditions that do not hold,
obligations that apply later), so a scheme that "meets" beside "1 fail, 18 inconclusive" says which is which.
"What next" is the conformity-assessment route a law's product class leaves open (the classification), the
remediation of the checks behind failing requirements (those that apply later too), the scheme's marginal plan
and its missing evidence; "later" gives the status at each later date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cybersafe.results import (
    CheckAttemptOut,
    LaterOut,
    MarginalPlanOut,
    MarketResultOut,
    RequirementResultOut,
    SchemeResultOut,
)

# Words for the verdicts and statuses in running text (the badges use render/_view.py's labels).
_WORD = {
    "pass": "pass",
    "justified": "justified",
    "fail": "fail",
    "inconclusive": "inconclusive",
    "pending": "pending",
    "not_applicable": "not applicable",
    "error": "error",
}
_STATUS_WORD = {
    "meets": "meets",
    "fails": "fails",
    "incomplete": "incomplete",
    "pending": "pending a scheme body's step",
    "prepare": "applies later (prepare)",
    "out_of_scope": "out of scope",
    "not_modelled": "not modelled",
    "not_judged": "not judged in this assessment",
}
# Order in which verdicts are named: what needs work first.
_TALLY_ORDER = ("fail", "error", "inconclusive", "pending", "justified", "pass", "not_applicable")
_NAMED = {"fail", "error", "inconclusive", "pending", "justified"}  # verdicts whose requirement ids are named
_NAMED_MAX = 3
_NEXT_MAX = 4
_RECOMMENDED = "recommended, not required: "
# How to take a step of each kind (a plan step's or a missing item's ref).
_STEP_TEXT = {
    "check": "run check {ref} with the evidence it needs",
    "declaration": "declare {ref} in the dossier",
    "manual": "record the manual result {ref}",
    "requirement": "meet {ref}",
    "scheme": "meet {ref}",
    "grant": "record {ref} in the dossier once the scheme body has given it",
    "ics": "justify the failing recommendations in the dossier's ICS ({ref})",
}
_REF_KINDS = ("declaration", "manual", "requirement", "scheme", "grant", "ics")
_REASON_MAX = 140  # characters of a missing item's reason shown in the summary (the full text is further down)


@dataclass(frozen=True, slots=True)
class Summary:
    why: str
    later: tuple[str, ...]
    next: tuple[str, ...]


def status_text(result: SchemeResultOut) -> str:
    """The status as a person reads it in a table: with its justified and pending-a-grant counts."""
    text = str(result.status)
    justified = result.counts.get("justified", 0)
    if justified:
        text += f" ({justified} justified)"
    pending = result.counts.get("pending", 0)
    if pending:
        text += f" ({pending} pending a grant)"
    return text


def later_text(later: Sequence[LaterOut]) -> str:
    """``from 2027-12-11: incomplete; ...``: what each later date changes."""
    return "; ".join(later_step(entry.date, str(entry.status)) for entry in later)


def later_step(date: str, status: str) -> str:
    return f"from {day_words(date)}: {status}"


def counts_from(date: str) -> str:
    """The day a catalog date counts from: itself, or the last day of a month or a year given without its day
    (``date_by``); the text as given when it is no date."""
    from cybersafe.schemes.interface import date_by

    try:
        return date_by(date).isoformat()
    except ValueError:
        return date


def day_words(date: str) -> str:
    """A catalog date as the day it counts from, saying so when its day was not given: ``2025-04`` never reads
    as if it had begun on 2025-04-15."""
    day = counts_from(date)
    return day if day == date else f"{day} ({date} given without its day)"


def status_word(status: str) -> str:
    return _STATUS_WORD.get(status, status)


def _ids(requirements: Sequence[RequirementResultOut]) -> str:
    shown = ", ".join(r.id for r in requirements[:_NAMED_MAX])
    more = len(requirements) - _NAMED_MAX
    return shown + (f" and {more} more" if more > 0 else "")


def tally(requirements: Sequence[RequirementResultOut]) -> str:
    """``1 fail (5.6-8), 18 inconclusive (5.1-2, 5.3-1, 5.3-4 and 15 more), 20 pass``."""
    by_verdict: dict[str, list[RequirementResultOut]] = {}
    for req in requirements:
        by_verdict.setdefault(req.verdict, []).append(req)
    parts = []
    for verdict in _TALLY_ORDER:
        group = by_verdict.get(verdict, [])
        if group:
            named = f" ({_ids(group)})" if verdict in _NAMED else ""
            parts.append(f"{len(group)} {_WORD[verdict]}{named}")
    return ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _counted_text(counted: Sequence[RequirementResultOut], status: str) -> str:
    if not counted:
        return "No requirement decides the status on this date"
    verdicts = {r.verdict for r in counted}
    if status == "meets" and verdicts <= {"pass", "not_applicable"}:
        na = sum(1 for r in counted if r.verdict == "not_applicable")
        rest = f" ({na} not applicable)" if na else ""
        every = (
            "The 1 counted requirement is met"
            if len(counted) == 1
            else f"All {len(counted)} counted requirements are met"
        )
        return every + rest
    return f"{_plural(len(counted), 'counted requirement')}: {tally(counted)}"


def _uncounted_text(applying: Sequence[RequirementResultOut]) -> str:
    recommended = [r for r in applying if not r.required and r.obligation == "recommended"]
    others = [r for r in applying if not r.required and r.obligation != "recommended"]
    parts = []
    if recommended:
        parts.append(f"recommendations, not counted: {tally(recommended)}")
    if others:
        parts.append(f"{_plural(len(others), 'conditional requirement')} whose condition does not hold")
    return "; ".join(parts)


def _later_requirements_text(result: SchemeResultOut) -> str:
    later = [r for r in result.requirements if not r.applies]
    if not later:
        return ""
    dates = sorted({r.applies_from for r in later if r.applies_from})
    when = f" from {', '.join(dates)}" if dates else " later"
    return f"{_plural(len(later), 'requirement')} {'applies' if len(later) == 1 else 'apply'} only{when}"


def why(result: SchemeResultOut) -> str:
    """One sentence: which requirements decide the status on the date and how they came out."""
    status = result.status
    if status == "not_modelled":
        return "Its requirements are not modelled, so it can never read as met from this assessment."
    if status == "out_of_scope":
        return (
            f"The product is outside its scope: {result.scope}."
            if result.scope
            else "The product is outside its scope."
        )
    if status == "prepare":
        dates = sorted({r.applies_from for r in result.requirements if r.applies_from})
        first = dates[0] if dates else (result.dates.applies_from if result.dates else None)
        d = result.dates
        if d is not None and first and not d.applies_from and not d.in_force and d.published == first:
            # the date is this version's publication: say so (an earlier version, modelled or not, may have applied)
            earliest = first if len(first) == 10 else (first + "-01-01")[:10]
            if result.as_of is not None and result.as_of.isoformat() >= earliest:
                # within the month or year of a publication whose day is not recorded: counted from its last day
                return (
                    f"Version {result.version} was published in {first}, its day not recorded, so it counts from "
                    f"{counts_from(first)}: nothing of it applies on {result.as_of}."
                )
            return (
                f"Version {result.version} was not yet published on {result.as_of}: nothing of it applies before "
                f"{day_words(first)}."
            )
        return f"Nothing of it applies on {result.as_of}" + (f"; it applies from {day_words(first)}." if first else ".")
    applying = [r for r in result.requirements if r.applies]
    counted = [r for r in applying if r.required]
    parts = [_counted_text(counted, status)]
    if result.levels:
        levels = ", ".join(f"{lv.title or lv.level} {status_word(lv.status)}" for lv in result.levels)
        parts.append(f"levels: {levels}" if result.highest_level else f"no level is met ({levels})")
    parts += [p for p in (_uncounted_text(applying), _later_requirements_text(result)) if p]
    if result.in_scope is None and result.scope and status != "meets":
        parts.append("the facts its scope needs are not all declared")
    return "; ".join(parts) + "."


def later_lines(later: Iterable[LaterOut]) -> tuple[str, ...]:
    out = []
    for item in later:
        level = f" (highest level {item.highest_level})" if item.highest_level else ""
        out.append(f"from {item.date}: {status_word(item.status)}{level}")
    return tuple(out)


def _failing_checks(result: SchemeResultOut) -> list[tuple[str, bool]]:
    """Check refs behind failing requirements, with whether only recommendations (not counted) need them."""
    refs: dict[str, bool] = {}
    for req in result.requirements:
        if req.verdict != "fail":
            continue
        recommended = not req.required
        for e in req.evidence:
            if e.kind == "check" and e.verdict == "fail":
                refs[e.ref] = refs.get(e.ref, True) and recommended
    return sorted(refs.items(), key=lambda item: item[1])  # required fixes first (stable)


def _fix_lines(result: SchemeResultOut, checks: dict[str, CheckAttemptOut]) -> list[tuple[str, str]]:
    out = []
    for ref, recommended in _failing_checks(result):
        attempt = checks.get(ref)
        fix = attempt.remediation if attempt and attempt.remediation else "see its findings"
        out.append((ref, f"{_RECOMMENDED if recommended else ''}fix {ref}: {fix}"))
    return out


def _step_text(kind: str, ref: str) -> str:
    return _STEP_TEXT.get(kind, "{ref}").format(ref=ref)


def _ref_kind(ref: str) -> str:
    prefix = ref.split(":", 1)[0]
    return prefix if prefix in _REF_KINDS else "check"


def _settle_text(attempt: CheckAttemptOut | None) -> str | None:
    """A check that ran but could not decide: what it still needs, in its own words."""
    if attempt is None or attempt.verdict not in ("inconclusive", "error"):
        return None
    open_finding = next((f for f in attempt.findings if f.verdict in ("inconclusive", "error")), None)
    why = open_finding.message if open_finding else (attempt.detail or attempt.reason or attempt.verdict)
    return f"settle {attempt.key}, which ran but is {attempt.verdict}: {_shorten(why)}"


def _step_lines(plan: MarginalPlanOut | None, checks: dict[str, CheckAttemptOut]) -> list[tuple[str, str]]:
    if plan is None:
        return []
    out = []
    for step in plan.steps:
        closes = ", ".join(c.split(":", 1)[-1] for c in step.closes[:_NAMED_MAX])
        more = f" and {len(step.closes) - _NAMED_MAX} more" if len(step.closes) > _NAMED_MAX else ""
        settle = _settle_text(checks.get(step.ref)) if step.kind == "check" else None
        out.append((step.ref, f"{settle or _step_text(step.kind, step.ref)} (closes {closes}{more})"))
    return out


def _shorten(text: str, limit: int = _REASON_MAX) -> str:
    """At most ``limit`` characters, cut at a word boundary with "…"."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _missing_lines(result: SchemeResultOut) -> list[tuple[str, str]]:
    """A missing item is "<ref>: <reason>" (a leaf) or "<question id> (<scope>): <question>" (a decision tree)."""
    out = []
    for item in result.missing_evidence:
        ref, _, reason = item.partition(": ")
        if " " in ref:  # not a leaf ref: a question for the assessor, named by its first word
            question = ref.split(" ", 1)[0]
            out.append((question, f"answer {question}: {_shorten(reason or ref)}"))
            continue
        out.append((ref, _step_text(_ref_kind(ref), ref) + (f" ({_shorten(reason)})" if reason else "")))
    return out


def _route_lines(result: SchemeResultOut) -> list[tuple[str, str]]:
    """The conformity-assessment route a law's product class leaves open on the date (the CRA's)."""
    found = result.classification
    if found is None:
        return []
    open_routes = [r.title for r in found.routes if r.open]
    if not open_routes:
        return [("route", f"{found.title}: no conformity-assessment route is open on {result.as_of}")]
    who = "a notified body is required" if found.notified_body_required else "no notified body is required"
    return [("route", f"{found.title}, {who}: " + " or ".join(open_routes))]


def _nothing_to_do(result: SchemeResultOut) -> str:
    if result.status == "not_modelled":
        return "assess it with the scheme body, or see what a label you hold covers: cybersafe recognize"
    if result.status == "out_of_scope":
        return "nothing, unless the declared product facts are wrong"
    return f"nothing as of {result.as_of}" if result.as_of else "nothing"


def next_steps(
    result: SchemeResultOut, plan: MarginalPlanOut | None, checks: dict[str, CheckAttemptOut]
) -> tuple[str, ...]:
    """At most four steps: the conformity route, the fixes, the plan's steps, the missing evidence (deduplicated);
    "nothing" first when only recommendations are left."""
    seen: set[str] = set()
    required: list[str] = []
    recommended: list[str] = []
    candidates = (
        *_route_lines(result),
        *_fix_lines(result, checks),
        *_step_lines(plan, checks),
        *_missing_lines(result),
    )
    for ref, line in candidates:
        base = ref.split("[", 1)[0]
        if base not in seen:
            seen.add(base)
            (recommended if line.startswith(_RECOMMENDED) else required).append(line)
    steps = required or [_nothing_to_do(result)]
    steps += recommended
    if len(steps) > _NEXT_MAX:
        rest = len(steps) - (_NEXT_MAX - 1)
        steps = [*steps[: _NEXT_MAX - 1], f"and {rest} more: see the requirements and the missing evidence below"]
    return tuple(steps)


def summarise(result: SchemeResultOut, plan: MarginalPlanOut | None, checks: dict[str, CheckAttemptOut]) -> Summary:
    return Summary(why=why(result), later=later_lines(result.later), next=next_steps(result, plan, checks))


def _market_status(status: str, applies_from: str | None, as_of: str) -> str:
    if not applies_from or applies_from <= as_of or status in ("prepare", "out_of_scope", "not_modelled"):
        return status_word(status) + (f" from {applies_from}" if status == "prepare" and applies_from else "")
    return f"{status_word(status)} on what applies on {as_of}; the rest applies from {applies_from}"


def market_summary(market: MarketResultOut, schemes: dict[str, tuple[str, Summary]]) -> Summary:
    """A market's why (each of its schemes and its status), its later dates and the next steps of its open schemes."""
    why_parts, later, steps = [], [], []
    for entry in market.schemes:
        title, summary = schemes.get(entry.scheme, (entry.scheme, Summary("", (), ())))
        why_parts.append(f"{title}: {_market_status(entry.status, entry.applies_from, str(market.as_of))}")
        later += [f"{title} {line}" for line in later_lines(entry.later)]
        open_later = any(item.status not in ("meets", "pending") for item in entry.later)
        if entry.status != "meets" or open_later:
            steps += [f"{title}: {line}" for line in summary.next[:2]]
    nothing = f"nothing as of {market.as_of}"
    unique = tuple(dict.fromkeys(steps))[:_NEXT_MAX]
    return Summary(why="; ".join(why_parts) + ".", later=tuple(later), next=unique or (nothing,))
