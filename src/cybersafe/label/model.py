"""The label record ``cybersafe/label/v1``: what a signed label states, and the predicate of its attestation.

Shared with the registry (contract: /tmp/cybersafe-labels.md). Strict wire model: unknown fields are errors.
Dates are calendar dates (UTC) written ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cybersafe.schemes.interface import LabelStyle

LABEL_SCHEMA: Final = "cybersafe/label/v1"
PREDICATE_TYPE = "https://cybersafe.dev/attestation/label/v1"
LABEL_ID_PATTERN = r"^CSL-[A-Z0-9]{1,24}-[0-9A-HJKMNP-TV-Z]{26}$"
LABEL_ID_RE = re.compile(LABEL_ID_PATTERN)

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(min_length=1)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelProduct(_Wire):
    manufacturer: Text
    name: Text
    model: Text
    hardware_version: str | None = None
    firmware_version: str | None = None


class Subject(_Wire):
    """An artefact the label is about: ``firmware:<file name>`` or ``sbom:<file name>``."""

    name: Annotated[str, StringConstraints(pattern=r"^(firmware|sbom):.+$")]
    sha256: Sha256

    @property
    def kind(self) -> str:
        return self.name.split(":", 1)[0]


class VerdictSummary(_Wire):
    status: Literal["meets"]
    highest_level: str | None = None
    counts: dict[str, int]


class Issuer(_Wire):
    name: Text
    key_id: Sha256
    contact: str | None = None


class Disclosures(_Wire):
    """The registry fields of 47 CFR 8.222(b), from the dossier; None where the dossier is silent."""

    manufacturer: Text
    product: Text
    authorised_on: dt.date
    administrator: Text
    lab: str | None = None
    default_password: str | None = None
    secure_configuration: str | None = None
    updates_automatic: bool | None = None
    update_instructions: str | None = None
    support_end: dt.date | Literal["unsupported"]
    sbom_maintained: bool | None = None
    hbom_maintained: bool | None = None
    contact: str | None = None


class LabelRecord(_Wire):
    schema_: Literal["cybersafe/label/v1"] = Field(default=LABEL_SCHEMA, alias="schema")
    label_id: Annotated[str, StringConstraints(pattern=LABEL_ID_PATTERN)]
    scheme: Text
    scheme_version: Text
    scheme_name: str | None = None  # the name the scheme's catalog prints on its label
    label_style: LabelStyle | None = None  # the artwork the scheme's catalog names
    level: str | None = None
    product: LabelProduct
    subjects: list[Subject] = Field(min_length=1)
    assessment_sha256: Sha256
    verdict_summary: VerdictSummary
    issued: dt.date
    valid_until: dt.date
    support_end: dt.date
    issuer: Issuer
    lab: str | None = None
    registry_url: Text
    disclosures: Disclosures

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def subject(self, kind: str) -> Subject | None:
        for subject in self.subjects:
            if subject.kind == kind:
                return subject
        return None

    def wire(self) -> dict[str, object]:
        """JSON form (the attestation predicate); None values are kept so every field is explicit."""
        return self.model_dump(mode="json", by_alias=True)


def label_json_schema() -> dict[str, object]:
    """JSON Schema of the label record (published as ``cybersafe/label/label-v1.schema.json``)."""
    schema = LabelRecord.model_json_schema(by_alias=True)
    schema["$id"] = "https://cybersafe.dev/schemas/label/v1.json"
    schema["title"] = "cybersafe label record v1"
    return schema
