"""VEX in (OpenVEX 0.2, CycloneDX VEX JSON, CSAF 2.0 VEX) and out (OpenVEX 0.2).

A statement applies to a match when one of its vulnerability ids equals the match's id or an alias and one
of its products names the component: the same purl (a purl without version covers every version), or the
component's bom-ref. ``not_affected`` and ``fixed`` suppress a match; the justification is kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL

from cybersafe import safeio
from cybersafe.errors import InputError, SbomError
from cybersafe.evidence.vulndb.model import VexStatement, VexStatus

if TYPE_CHECKING:
    from cybersafe.evidence.sbom.model import SbomComponent
    from cybersafe.evidence.vulndb.model import VulnerabilityMatch, VulnerabilityReport

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
OPENVEX_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
_CDX_STATE = {
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}
_CDX_JUSTIFICATION = {
    "code_not_present": "vulnerable_code_not_present",
    "code_not_reachable": "vulnerable_code_not_in_execute_path",
    "requires_configuration": "vulnerable_code_cannot_be_controlled_by_adversary",
    "requires_dependency": "component_not_present",
    "requires_environment": "vulnerable_code_cannot_be_controlled_by_adversary",
    "protected_by_compiler": "inline_mitigations_already_exist",
    "protected_at_runtime": "inline_mitigations_already_exist",
    "protected_at_perimeter": "inline_mitigations_already_exist",
    "protected_by_mitigating_control": "inline_mitigations_already_exist",
}
_CSAF_STATUS = {
    "known_not_affected": VexStatus.NOT_AFFECTED,
    "fixed": VexStatus.FIXED,
    "first_fixed": VexStatus.FIXED,
    "known_affected": VexStatus.AFFECTED,
    "first_affected": VexStatus.AFFECTED,
    "last_affected": VexStatus.AFFECTED,
    "under_investigation": VexStatus.UNDER_INVESTIGATION,
}


MAX_VEX_BYTES = 64 * 1024 * 1024


def _read_vex(path: Path) -> bytes:
    """The one place a VEX file is opened: a regular file of at most ``MAX_VEX_BYTES`` (cybersafe.safeio)."""
    return safeio.read_bytes(path, MAX_VEX_BYTES, what="a VEX document", error=SbomError)


def load_vex(path: str | Path) -> list[VexStatement]:
    """Read one VEX document; raise ``SbomError`` naming the file and element when it is malformed."""
    path = Path(path)
    try:
        data = json.loads(_read_vex(path))
    except OSError as exc:
        raise SbomError(f"cannot read: {exc.strerror or exc}", file=path) from exc
    except json.JSONDecodeError as exc:
        raise SbomError(f"not valid JSON: {exc.msg}", file=path, line=exc.lineno) from exc
    except UnicodeDecodeError as exc:
        raise SbomError("not UTF-8 text", file=path) from exc
    except RecursionError as exc:
        raise SbomError("not readable JSON: nested too deeply", file=path) from exc
    if not isinstance(data, dict):
        raise SbomError("top level is not a JSON object", file=path)
    if str(data.get("@context", "")).startswith("https://openvex.dev/ns"):
        reader, kind = _openvex, "OpenVEX"
    elif data.get("bomFormat") == "CycloneDX":
        reader, kind = _cyclonedx, "CycloneDX VEX"
    elif isinstance(data.get("document"), dict) and "csaf_version" in data["document"]:
        reader, kind = _csaf, "CSAF VEX"
    else:
        raise SbomError("not an OpenVEX, CycloneDX VEX or CSAF VEX document", file=path, field="@context")
    try:
        return reader(path, data)
    except (TypeError, AttributeError, ValueError, KeyError, RecursionError) as exc:  # a shape not foreseen
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise SbomError(f"malformed {kind} document: {text}", file=path) from exc


def _opt_list(path: Path, value: Any, where: str) -> list[Any]:
    """An optional list element: absent (or null) reads as empty; present, it must be a list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SbomError("must be a list", file=path, field=where)
    return value


def _need(path: Path, value: Any, where: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind):
        raise SbomError(f"missing or not {what}", file=path, field=where)
    return value


def _openvex(path: Path, data: dict[str, Any]) -> list[VexStatement]:
    out = []
    for i, st in enumerate(_need(path, data.get("statements"), "statements", list, "a list")):
        where = f"statements[{i}]"
        _need(path, st, where, dict, "an object")
        vuln = _need(path, st.get("vulnerability"), f"{where}.vulnerability", dict, "an object")
        name = _need(path, vuln.get("name"), f"{where}.vulnerability.name", str, "a string")
        status_text = _need(path, st.get("status"), f"{where}.status", str, "a string")
        try:
            status = VexStatus(status_text)
        except ValueError as exc:
            raise SbomError(f"unknown status {status_text!r}", file=path, field=f"{where}.status") from exc
        products: list[str] = []
        for j, prod in enumerate(_need(path, st.get("products", []), f"{where}.products", list, "a list")):
            _need(path, prod, f"{where}.products[{j}]", dict, "an object")
            products.append(str(prod.get("@id", "")))
            subs = _opt_list(path, prod.get("subcomponents"), f"{where}.products[{j}].subcomponents")
            products.extend(str(sub.get("@id", "")) for sub in subs if isinstance(sub, dict))
        if status is VexStatus.NOT_AFFECTED and not (st.get("justification") or st.get("impact_statement")):
            raise SbomError("not_affected needs a justification or impact_statement", file=path, field=where)
        out.append(
            VexStatement(
                vulnerability=name,
                aliases=frozenset(
                    str(a) for a in _opt_list(path, vuln.get("aliases"), f"{where}.vulnerability.aliases")
                ),
                products=tuple(p for p in products if p),
                status=status,
                justification=st.get("justification"),
                detail=st.get("impact_statement") or st.get("status_notes"),
                source=str(path),
            )
        )
    return out


def _cyclonedx(path: Path, data: dict[str, Any]) -> list[VexStatement]:
    out = []
    refs: dict[str, str] = {}
    for comp in _opt_list(path, data.get("components"), "components"):
        if isinstance(comp, dict) and comp.get("bom-ref") and comp.get("purl"):
            refs[str(comp["bom-ref"])] = str(comp["purl"])
    for i, vuln in enumerate(_need(path, data.get("vulnerabilities"), "vulnerabilities", list, "a list")):
        where = f"vulnerabilities[{i}]"
        _need(path, vuln, where, dict, "an object")
        ident = _need(path, vuln.get("id"), f"{where}.id", str, "a string")
        analysis = _need(path, vuln.get("analysis"), f"{where}.analysis", dict, "an object")
        state = _need(path, analysis.get("state"), f"{where}.analysis.state", str, "a string")
        if state not in _CDX_STATE:
            raise SbomError(f"unknown state {state!r}", file=path, field=f"{where}.analysis.state")
        products = []
        for j, aff in enumerate(_need(path, vuln.get("affects", []), f"{where}.affects", list, "a list")):
            ref = _need(
                path, aff.get("ref") if isinstance(aff, dict) else None, f"{where}.affects[{j}].ref", str, "a string"
            )
            products.append(refs.get(ref, ref))
            if ref in refs:
                products.append(ref)
        references = _opt_list(path, vuln.get("references"), f"{where}.references")
        aliases = {str(r.get("id")) for r in references if isinstance(r, dict) and r.get("id")}
        justification = analysis.get("justification")
        out.append(
            VexStatement(
                vulnerability=ident,
                aliases=frozenset(aliases),
                products=tuple(products),
                status=_CDX_STATE[state],
                justification=_CDX_JUSTIFICATION.get(str(justification), justification),
                detail=analysis.get("detail"),
                source=str(path),
            )
        )
    return out


def _csaf_products(path: Path, tree: dict[str, Any]) -> dict[str, list[str]]:
    """product_id -> purls (and CPEs) named for it anywhere in the product tree."""
    out: dict[str, list[str]] = {}

    def add(fpn: dict[str, Any]) -> None:
        pid = str(fpn.get("product_id", ""))
        helper = fpn.get("product_identification_helper") or {}
        names = [str(helper[k]) for k in ("purl", "cpe") if isinstance(helper, dict) and helper.get(k)]
        out.setdefault(pid, []).extend(names or [pid])

    # Depth first in document order, with an explicit stack: branches nest as deep as the JSON does.
    top = _opt_list(path, tree.get("branches"), "product_tree.branches")
    stack: list[tuple[str, Iterator[tuple[int, Any]]]] = [("product_tree.branches", enumerate(top))]
    while stack:
        where, items = stack[-1]
        step = next(items, None)
        if step is None:
            stack.pop()
            continue
        i, branch = step
        if not isinstance(branch, dict):
            continue
        if isinstance(branch.get("product"), dict):
            add(branch["product"])
        here = f"{where}[{i}].branches"
        stack.append((here, enumerate(_opt_list(path, branch.get("branches"), here))))
    for fpn in _opt_list(path, tree.get("full_product_names"), "product_tree.full_product_names"):
        if isinstance(fpn, dict):
            add(fpn)
    for rel in _opt_list(path, tree.get("relationships"), "product_tree.relationships"):
        if isinstance(rel, dict) and isinstance(rel.get("full_product_name"), dict):
            # "component X installed on product Y": the statement is about component X inside Y.
            pid = str(rel["full_product_name"].get("product_id", ""))
            out.setdefault(pid, []).extend(out.get(str(rel.get("product_reference", "")), []))
    return out


def _csaf(path: Path, data: dict[str, Any]) -> list[VexStatement]:
    tree = data.get("product_tree")
    products = _csaf_products(path, tree) if isinstance(tree, dict) else {}
    out = []
    for i, vuln in enumerate(_need(path, data.get("vulnerabilities"), "vulnerabilities", list, "a list")):
        where = f"vulnerabilities[{i}]"
        _need(path, vuln, where, dict, "an object")
        ids = [str(vuln["cve"])] if vuln.get("cve") else []
        ids += [
            str(x.get("text"))
            for x in _opt_list(path, vuln.get("ids"), f"{where}.ids")
            if isinstance(x, dict) and x.get("text")
        ]
        if not ids:
            raise SbomError("needs cve or ids", file=path, field=where)
        status_map = _need(path, vuln.get("product_status"), f"{where}.product_status", dict, "an object")
        flags: dict[str, str] = {}
        for j, flag in enumerate(_opt_list(path, vuln.get("flags"), f"{where}.flags")):
            if isinstance(flag, dict):
                for pid in _opt_list(path, flag.get("product_ids"), f"{where}.flags[{j}].product_ids"):
                    flags[str(pid)] = str(flag.get("label"))
        impacts: dict[str, str] = {}
        for j, threat in enumerate(_opt_list(path, vuln.get("threats"), f"{where}.threats")):
            if isinstance(threat, dict) and threat.get("category") == "impact":
                for pid in _opt_list(path, threat.get("product_ids"), f"{where}.threats[{j}].product_ids"):
                    impacts[str(pid)] = str(threat.get("details"))
        for key, status in _CSAF_STATUS.items():
            pids = status_map.get(key) or []
            _need(path, pids, f"{where}.product_status.{key}", list, "a list")
            for pid in pids:
                if status is VexStatus.NOT_AFFECTED and str(pid) not in flags and str(pid) not in impacts:
                    raise SbomError(
                        f"known_not_affected product {pid!r} needs a flag or an impact threat",
                        file=path,
                        field=f"{where}.product_status.known_not_affected",
                    )
                out.append(
                    VexStatement(
                        vulnerability=ids[0],
                        aliases=frozenset(ids[1:]),
                        products=tuple(products.get(str(pid), [str(pid)])),
                        status=status,
                        justification=flags.get(str(pid)),
                        detail=impacts.get(str(pid)),
                        source=str(path),
                    )
                )
    return out


def _purl_base(text: str) -> tuple[str, str | None] | None:
    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    return f"{p.type}/{(p.namespace or '').lower()}/{p.name.lower()}", p.version


def _names_component(product: str, comp: SbomComponent | None, match: VulnerabilityMatch) -> bool:
    if product == match.component_ref:
        return True
    purl = match.purl or (comp.purl if comp else None)
    if not purl:
        return False
    want, have = _purl_base(product), _purl_base(purl)
    if want is None or have is None or want[0] != have[0]:
        return False
    return want[1] is None or want[1] == (have[1] or match.version)


def apply_vex(
    report: VulnerabilityReport, statements: Sequence[VexStatement], components: Sequence[SbomComponent]
) -> VulnerabilityReport:
    if not statements:
        return report
    by_ref = {c.ref: c for c in components}
    out = []
    for match in report.matches:
        ids = {match.vulnerability, *match.aliases}
        chosen = None
        for st in statements:
            if st.ids() & ids and any(_names_component(p, by_ref.get(match.component_ref), match) for p in st.products):
                chosen = st  # the last statement wins, as in OpenVEX document order
        out.append(match.with_vex(chosen) if chosen else match)
    return replace(report, matches=tuple(out))


# Provenance of the schema file: openvex/spec, openvex_json_schema.json at d29fab0c81cfea04159436d54c3edc32947039ac
# (last changed in a68ccd19b15a9604d28ef66ebf33f27a772ba4ec), sha256 9373597734ed1d3ea5161a8b46d3866c4a8cfe76fd632fdd16aef01fb34b3238,
# CC0-1.0 (the repository's LICENSE).
OPENVEX_SCHEMA = "openvex-0.2.0.schema.json"
# RFC 3987 IRI, as far as a writer must care: a scheme, then no space, control or excluded character.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")


def is_iri(text: str) -> bool:
    """True for an absolute IRI; a ``pkg:`` IRI must also be a valid purl."""
    if not _IRI.fullmatch(text):
        return False
    if text.startswith("pkg:"):
        try:
            PackageURL.from_string(text)
        except ValueError:
            return False
    return True


def _suggested_purl(name: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-") or "my-product"
    return f"pkg:generic/{slug}"


def _component(m: VulnerabilityMatch) -> dict[str, Any]:
    """How OpenVEX names the component: its purl as the IRI, else its CPE as an identifier."""
    if m.purl and is_iri(m.purl):
        return {"@id": m.purl}
    if m.cpe:
        return {"identifiers": {"cpe23" if m.cpe.startswith("cpe:2.3:") else "cpe22": m.cpe}}
    return {"@id": m.component_ref}  # not an IRI: validation names it before anything is written


def _statement(m: VulnerabilityMatch, product: str | None) -> dict[str, Any]:
    component = _component(m)
    prod: dict[str, Any] = {"@id": product, "subcomponents": [component]} if product else component
    st: dict[str, Any] = {
        "vulnerability": {"name": m.vulnerability, **({"aliases": list(m.aliases)} if m.aliases else {})},
        "products": [prod],
        "status": str(m.vex_status or "affected"),
    }
    if m.vex_status is VexStatus.NOT_AFFECTED:
        just = m.vex_justification or ""
        if just in OPENVEX_JUSTIFICATIONS:
            st["justification"] = just
        else:
            st["impact_statement"] = just or "declared not affected"
    elif st["status"] == "affected":
        st["action_statement"] = (
            f"Update {m.component} to {', '.join(m.fixed_versions)} or later"
            if m.fixed_versions
            else "No fixed version is known; apply vendor mitigations and monitor the advisory"
        )
    return st


def check_product(product: str | None) -> None:
    """Refuse, in one line, a product name that OpenVEX cannot carry (it names products by IRI)."""
    if product is not None and not is_iri(product):
        raise InputError(
            f"{product!r} is not a purl or an IRI (OpenVEX names products by IRI); give one such as "
            f"{_suggested_purl(product)}@<version>",
            field="product",
        )


def export_openvex(
    report: VulnerabilityReport, *, author: str, timestamp: dt.datetime, product: str | None = None
) -> dict[str, Any]:
    """Our VEX out: one OpenVEX 0.2.0 statement per vulnerability (alias group) and component, validated
    against the OpenVEX schema before it is returned; deterministic apart from the injected timestamp.

    ``product`` must be an IRI (a purl, a URL, a URN): OpenVEX identifies products by IRI. A plain name is
    refused with a suggestion rather than written as an invalid document.
    """
    check_product(product)
    stamp = timestamp.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    statements = [_statement(m, product) for m in report.matches]
    body = json.dumps(statements, sort_keys=True).encode()
    doc_id = "https://openvex.dev/docs/cybersafe/vex-" + hashlib.sha256(body).hexdigest()[:32]
    doc = {
        "@context": OPENVEX_CONTEXT,
        "@id": doc_id,
        "author": author,
        "timestamp": stamp,
        "version": 1,
        "tooling": "cybersafe",
        "statements": statements,
    }
    validate_openvex(doc)
    return doc


@functools.cache
def _openvex_validator() -> Any:
    from importlib import resources

    from jsonschema import Draft202012Validator, FormatChecker

    schema = json.loads(resources.files("cybersafe.evidence.vulndb").joinpath(OPENVEX_SCHEMA).read_text("utf-8"))
    checker = FormatChecker()
    checker.checks("iri")(is_iri)  # jsonschema checks "iri" only with a GPL extra installed: our own check
    return Draft202012Validator(schema, format_checker=checker)


def validate_openvex(doc: dict[str, Any]) -> None:
    """Raise ``InputError`` naming the first element that makes ``doc`` invalid OpenVEX 0.2.0."""
    error = next(iter(sorted(_openvex_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "document"
        raise InputError(f"the OpenVEX document would not be valid: {error.message[:200]}", field=where)
