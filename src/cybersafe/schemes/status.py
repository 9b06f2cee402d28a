"""Scheme status values (shared by the evaluator and the wire model)."""

from __future__ import annotations

from enum import StrEnum


class SchemeStatus(StrEnum):
    MEETS = "meets"  # every requirement that applies is pass, justified or not_applicable
    FAILS = "fails"  # some required requirement fails
    INCOMPLETE = "incomplete"  # evidence missing, inconclusive or errored
    PENDING = "pending"  # everything the product can show is met; a scheme body's step (a grant) is not recorded
    PREPARE = "prepare"  # nothing of the scheme applies yet on the assessment date: shown with the date it will
    OUT_OF_SCOPE = "out_of_scope"  # the product is outside the scheme's scope
    NOT_MODELLED = "not_modelled"  # the scheme's requirements are not modelled: it never reads as met
    NOT_JUDGED = "not_judged"  # markets only: none of the market's schemes was evaluated (assess --scheme ...)
