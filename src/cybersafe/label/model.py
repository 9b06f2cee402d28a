"""The label record ``cybersafe/label/v1``: what a signed label states, and the predicate of its attestation.

Shared with the registry. Strict wire model: unknown fields are errors. Dates are calendar dates (UTC) written
``YYYY-MM-DD``.

Artwork is part of what the issuer signs (``artwork``): ``scheme-mark`` (the scheme's own consumer-label style)
only when the scheme has a consumer label (``label_style``) and the issuer states that it is that scheme's label
administrator or licensee (``issuer.administrator_of`` names the scheme); everything else is an ``attestation``
card, visibly not the scheme's label. A record that claims the mark without both is invalid. The registry checks
the claim against its own list of administrators and refuses a scheme-mark label from an issuer it does not
record as one.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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


class Artwork(StrEnum):
    """What the label's artwork is allowed to look like."""

    SCHEME_MARK = "scheme-mark"  # the scheme's consumer-label style: its administrator or licensee only
    ATTESTATION = "attestation"  # a signed conformity-attestation card: any issuer, any scheme


class VerdictSummary(_Wire):
    """The scheme's result the label rests on, as of the assessment date."""

    # meets, or pending when only a scheme body's grant is missing (issuing the label is that step)
    status: Literal["meets", "pending"]
    highest_level: str | None = None
    counts: dict[str, int]
    as_of: dt.date | None = None  # the date the verdict holds for
    justified: list[str] = Field(default_factory=list)  # "<requirement id> (<risk decision ids>)"
    pending: list[str] = Field(default_factory=list)  # requirement ids waiting for a scheme body's grant


class Issuer(_Wire):
    name: Text
    key_id: Sha256
    contact: str | None = None
    # The scheme whose label administrator (or licensee) the issuer states it is; the registry checks it.
    administrator_of: str | None = None


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


class Supersedes(_Wire):
    """The label this one replaces: same issuer, scheme and product, a new firmware release assessed with the
    same verdicts for the scheme; ``diff_sha256`` is the digest of ``cybersafe diff`` from the old assessment to
    the new one (``AssessmentDiff.digest()``), so anyone holding both assessments can check the claim."""

    label_id: Annotated[str, StringConstraints(pattern=LABEL_ID_PATTERN)]
    assessment_sha256: Sha256  # the assessment the superseded label was issued on
    diff_sha256: Sha256


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
    artwork: Artwork = Artwork.ATTESTATION  # records written before it was recorded are drawn as cards
    supersedes: Supersedes | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _mark_needs_administrator(self) -> Self:
        """A scheme mark needs a consumer label and an issuer that states it administers this very scheme."""
        if self.artwork is Artwork.SCHEME_MARK:
            if self.label_style is None:
                raise ValueError(f"artwork scheme-mark: {self.scheme} has no consumer label (no label_style)")
            if self.issuer.administrator_of != self.scheme:
                raise ValueError(
                    f"artwork scheme-mark: the issuer is not recorded as {self.scheme}'s label administrator "
                    "(issuer.administrator_of)"
                )
        return self

    @property
    def scheme_mark(self) -> bool:
        return self.artwork is Artwork.SCHEME_MARK

    def subject(self, kind: str) -> Subject | None:
        for subject in self.subjects:
            if subject.kind == kind:
                return subject
        return None

    def wire(self) -> dict[str, object]:
        """JSON form (the attestation predicate); None values are kept so every field is explicit, except
        ``supersedes``, which a label that replaces none leaves out (its predicate reads as before the field)."""
        data = self.model_dump(mode="json", by_alias=True)
        if data.get("supersedes") is None:
            data.pop("supersedes", None)
        return data


def label_json_schema() -> dict[str, object]:
    """JSON Schema of the label record (published as ``cybersafe/label/label-v1.schema.json``)."""
    schema = LabelRecord.model_json_schema(by_alias=True)
    schema["$id"] = "https://cybersafe.dev/schemas/label/v1.json"
    schema["title"] = "cybersafe label record v1"
    return schema
