"""Scheme status values (shared by the evaluator and the wire model)."""

from __future__ import annotations

from enum import StrEnum


class SchemeStatus(StrEnum):
    MEETS = "meets"  # every requirement required at the level is pass or not_applicable
    FAILS = "fails"  # some required requirement fails
    INCOMPLETE = "incomplete"  # evidence missing, inconclusive or errored
    NOT_MODELLED = "not_modelled"  # the scheme's requirements are not modelled: it never reads as met
