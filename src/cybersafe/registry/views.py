"""What a QR scan reads: the label JSON and the label page, with the page's own verification.

The page re-checks, against the newest signed tree head, that the label's signature matches its issuer's
registered key and that every event of the label is in the transparency log with the envelope shown. The
rendered page is cached until the tree head changes; the signature result, which cannot change, is kept
longer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jinja2 import Environment

from cybersafe.attest.dsse import verify_envelope
from cybersafe.attest.keys import load_public_key
from cybersafe.errors import VerificationFailed
from cybersafe.registry import log, merkle, service
from cybersafe.registry.reads import LabelCache, LabelRow, Reader, as_date
from cybersafe.registry.verify import LogCheckFailed, TreeHeadView, check_inclusion, check_tree_head, parse_entry

SIGNATURES_KEEP = 200_000


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def public_json(row: LabelRow, on: dt.date) -> str:
    """The label's public JSON with ``expired`` applied and its envelope spliced in."""
    return service.splice_envelope(
        service.effective_document(row.document, row.status, row.valid_until, on), row.envelope
    )


class LabelViews:
    def __init__(self, reader: Reader, cache: LabelCache, log_public: Ed25519PublicKey, templates: Environment) -> None:
        self.reader = reader
        self.cache = cache
        self.log_public = log_public
        self.templates = templates
        # An envelope and an issuer key never change, so neither does their signature check: it outlives
        # new tree heads, which only re-check the log.
        self.signatures: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self.issuer_keys: dict[str, Ed25519PublicKey] = {}
        self.checked_head: tuple[int, bytes] | None = None

    async def label_json(self, label_id: str) -> str | None:
        return await self.cache.get(label_id, self._load_json)

    async def _load_json(self, label_id: str) -> str | None:
        row = await self.reader.labels.get(label_id)
        return None if row is None else public_json(row, today())

    async def label_page(self, label_id: str) -> str | None:
        # Cached like the JSON and emptied with it, so the verified mark follows the newest tree head.
        return await self.cache.get("page:" + label_id, self._render_page)

    async def _render_page(self, key: str) -> str | None:
        label_id = key.removeprefix("page:")
        row = await self.reader.labels.get(label_id)
        if row is None:
            return None
        on = today()
        doc = json.loads(public_json(row, on))
        check = await self.verification(doc)
        siblings = [
            {
                "label_id": r[0],
                "scheme": r[1],
                "scheme_version": r[2],
                "level": r[3],
                "status": service.shown_status(r[4], as_date(r[5]), on),
            }
            for r in (await self.reader.product_labels.get(row.product_id)) or []
        ]
        return self.templates.get_template("label.html").render(doc=doc, check=check, schemes=siblings)

    async def documents(self, label_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Parsed public JSON of each label found, for the comparison page."""
        out = {}
        for label_id in label_ids:
            text = await self.label_json(label_id)
            if text is not None:
                out[label_id] = json.loads(text)
        return out

    async def _issuer_key(self, key_id: str) -> Ed25519PublicKey | None:
        if key_id not in self.issuer_keys:
            pem = await self.reader.issuer_keys.get(key_id)
            if pem is None:
                return None
            self.issuer_keys[key_id] = load_public_key(pem)
        return self.issuer_keys[key_id]

    async def verification(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Re-check the label's signature and its log entries against the newest signed tree head."""
        head = await self.cache.head()
        size = 0 if head is None else head.tree_size
        result: dict[str, Any] = {"signature": False, "log": False, "tree_size": size, "problems": []}
        digest = hashlib.sha256(log.canonical_json(doc["envelope"])).hexdigest()
        problem = await self._signature_problem(doc, digest)
        if problem is None:
            result["signature"] = True
        else:
            result["problems"].append(problem)
        try:
            result["log"] = await self._check_log(doc, digest, head)
        except (LogCheckFailed, KeyError, ValueError, merkle.ProofError) as exc:
            result["problems"].append(str(exc))
        result["verified"] = result["signature"] and result["log"]
        return result

    async def _signature_problem(self, doc: dict[str, Any], digest: str) -> str | None:
        """None when the envelope's signature verifies with its issuer's registered key, else why not."""
        key_id = str(doc["issuer"]["key_id"])
        memo = (digest, key_id)
        if memo in self.signatures:
            self.signatures.move_to_end(memo)
            return self.signatures[memo]
        key = await self._issuer_key(key_id)
        problem = None
        if key is None:
            problem = "the issuer's key is not on record"
        else:
            try:
                verify_envelope(doc["envelope"], {key_id: key})
            except VerificationFailed as exc:
                problem = str(exc)
        if key is not None:  # an issuer registered later may still make it verify
            self.signatures[memo] = problem
            if len(self.signatures) > SIGNATURES_KEEP:
                self.signatures.popitem(last=False)
        return problem

    async def _check_log(self, doc: dict[str, Any], digest: str, head: log.SignedTreeHead | None) -> bool:
        """Every event of the label is a log entry naming it, included in the signed tree head."""
        if head is None:
            raise LogCheckFailed("the log is empty")
        view = TreeHeadView(head.tree_size, head.root_hash, head.timestamp_ms, head.signature)
        if self.checked_head != (view.tree_size, view.root_hash):
            check_tree_head(view, self.log_public)
            self.checked_head = (view.tree_size, view.root_hash)
        indices = [int(e["log_index"]) for e in doc["log"]["events"]]
        if not indices:
            return False
        for index in indices:
            if not 0 <= index < view.tree_size:
                raise LogCheckFailed(f"log entry {index} is beyond the signed tree head")
        entries = await self.reader.entries.get_many(indices)
        for index in indices:
            entry = entries.get(index)
            if entry is None:
                raise LogCheckFailed(f"log entry {index} is missing")
            body = parse_entry(entry)
            if body.get("label_id") != doc["label_id"]:
                raise LogCheckFailed(f"log entry {index} names another label")
            if body.get("kind") == "issued" and body.get("envelope_sha256") != digest:
                raise LogCheckFailed("the logged envelope digest differs from the label shown")
            check_inclusion(entry, index, view, await self.reader.inclusion_path(index, view.tree_size))
        return True
