"""Which bundled schemes have consumer-label artwork at all: only the labelling schemes (their catalog's `label:`).

UK PSTI (SI 2023/1007), the CRA (Regulation (EU) 2024/2847), the RED delegated act, ETSI EN 303 645 and EN 18031
define no consumer label: a label issued for them is always a conformity-attestation card.
"""

from __future__ import annotations

import pytest

from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.interface import SchemeKind

CONSUMER_LABELS = {"us-ctm", "sg-cls", "fi-traficom", "de-bsi", "jp-jc-star"}
NO_LABEL = {
    "uk-psti",
    "etsi-en-303-645",
    "eu-cra",
    "eu-red-da",
    "eu-red-en-18031-1",
    "eu-red-en-18031-2",
    "eu-red-en-18031-3",
}


def test_only_labelling_schemes_name_label_artwork() -> None:
    catalog = default_catalog()
    for scheme in catalog.schemes.values():
        if scheme.label is not None:
            assert scheme.kind is SchemeKind.LABEL, f"{scheme.key} is a {scheme.kind} but names label artwork"


@pytest.mark.parametrize("scheme_id", sorted(NO_LABEL))
def test_laws_and_standards_have_no_consumer_label(scheme_id: str) -> None:
    versions = [s for s in default_catalog().schemes.values() if s.id == scheme_id]
    assert versions
    assert all(s.label is None for s in versions)


@pytest.mark.parametrize("scheme_id", sorted(CONSUMER_LABELS))
def test_the_consumer_labels_keep_their_artwork(scheme_id: str) -> None:
    scheme = default_catalog().scheme(scheme_id)
    assert scheme.label is not None and scheme.label.name
