"""JSON report: the assessment itself (``cybersafe/assessment/v1``), re-serialised canonically.

The JSON report is the wire model unchanged, so it can be fed back to ``cybersafe report`` and to the
label and registry commands. ``now`` is not written: the assessment carries its own ``generated_at``.
"""

from __future__ import annotations

import datetime as dt

from cybersafe.results import Assessment


class JsonRenderer:
    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes:
        del now  # the wire model has its own injected generated_at; a report time would break round-trips
        return (assessment.to_json() + "\n").encode("utf-8")
