"""What a QR scan reads: the label JSON, the label page, and the proof bundle the page's script checks.

Each is derived from the signed envelope and the label's log entries (``derive``), never taken from the
stored document, which is only compared: a difference is an integrity error, shown as such. The issuer's
state, derived from its own log entries, is kept per tree head; rendered JSON and pages are kept in the
per-worker ``LabelCache`` until the tree head changes.

The page itself proves nothing: its script (``static/verify.js``) fetches ``proof`` and checks, in the
browser, the envelope against the digest in the QR code's fragment, the issuer's signature, and every log
entry against the signed checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from jinja2 import Environment

from cybersafe import jsonio
from cybersafe.registry import derive, documents, log
from cybersafe.registry.interface import STATUS_WORD
from cybersafe.registry.reads import LabelCache, LabelRead, Reader

COSIGNATURES_RECHECK = 5.0


class LabelViews:
    def __init__(
        self,
        reader: Reader,
        cache: LabelCache,
        signer: log.LogSigner,
        templates: Environment,
        base_url: str,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.clock = clock
        self.reader = reader
        self.cache = cache
        self.signer = signer
        self.vkey = signer.verifier.vkey()
        self.templates = templates
        self.base_url = base_url
        # Per tree head (``cache.generation``): each issuer's entries and state, and the entries with their
        # proofs that every proof bundle of the issuer's labels repeats.
        self.issuers: dict[int, tuple[list[tuple[int, bytes]], derive.IssuerState | str]] = {}
        self.issuer_proofs: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.issuers_generation = -1
        # tree size -> (checkpoint with cosignatures, when read): witnesses may add cosignatures at any time.
        self.checkpoints: dict[int, tuple[str, float]] = {}

    def today(self) -> dt.date:
        return self.clock().astimezone(dt.UTC).date()

    async def _issuer_entries(self, issuer_id: int) -> tuple[list[tuple[int, bytes]], derive.IssuerState | str]:
        """The issuer's log entries and the state they give, kept until the tree head changes."""
        await self.cache.head()
        if self.issuers_generation != self.cache.generation:
            self.issuers, self.issuer_proofs, self.issuers_generation = {}, {}, self.cache.generation
        found = self.issuers.get(issuer_id)
        if found is None:
            subject = log.issuer_subject(issuer_id)
            pairs = (await self.reader.subject_entries.get_many([subject])).get(subject, [])
            found = (pairs, documents.issuer_states({issuer_id: pairs})[issuer_id])
            self.issuers[issuer_id] = found
        return found

    async def _issuer(self, issuer_id: int) -> derive.IssuerState | str:
        return (await self._issuer_entries(issuer_id))[1]

    async def _derive(self, label_id: str) -> tuple[LabelRead, derive.Derived] | None:
        row = await self.reader.labels.get(label_id)
        if row is None:
            return None
        issuer = await self._issuer(row.source.issuer_id)
        return row, documents.derive_source(row.source, row.entries, issuer)

    async def label_json(self, label_id: str) -> str | None:
        return await self.cache.get(label_id, self._load_json)

    async def _load_json(self, label_id: str) -> str | None:
        found = await self._derive(label_id)
        if found is None:
            return None
        row, derived = found
        return documents.public_document(derived, self.today(), self.base_url, row.source.envelope)

    async def label_page(self, label_id: str) -> str | None:
        return await self.cache.get("page:" + label_id, self._render_page)

    async def _render_page(self, key: str) -> str | None:
        label_id = key.removeprefix("page:")
        found = await self._derive(label_id)
        if found is None:
            return None
        row, derived = found
        doc = {**derived.facts, **derive.shown(derived, self.today())}
        siblings = [
            {"label_id": r[0], "scheme": r[1], "scheme_version": r[2], "level": r[3]}
            for r in (await self.reader.product_labels.get(row.source.product_id)) or []
        ]
        return self.templates.get_template("label.html").render(doc=doc, word=_word(doc), schemes=siblings)

    async def documents(self, label_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Parsed public JSON of each label found, for the comparison page."""
        out = {}
        for label_id in label_ids:
            text = await self.label_json(label_id)
            if text is not None:
                out[label_id] = json.loads(text)
        return out

    # --- the proof bundle the page's script and `cybersafe verify --registry` check -------------------

    async def checkpoint(self, head: log.SignedTreeHead) -> str:
        """The C2SP checkpoint of ``head``: the log's note signature, then every witness cosignature (read
        again at most every ``COSIGNATURES_RECHECK`` seconds)."""
        found = self.checkpoints.get(head.tree_size)
        now = time.monotonic()
        if found is None or now - found[1] > COSIGNATURES_RECHECK:
            text = self.signer.checkpoint(head) + "".join(await self.reader.cosignatures(head.tree_size))
            if len(self.checkpoints) > 1000:
                self.checkpoints.clear()
            found = self.checkpoints[head.tree_size] = (text, now)
        return found[0]

    async def head(self, tree_size: int | None) -> log.SignedTreeHead | None:
        latest = await self.reader.latest_head()
        if tree_size is None or latest is None or tree_size == latest.tree_size:
            return latest
        if tree_size > latest.tree_size:
            return None
        return await self.reader.head_of_size(tree_size)

    async def proof(self, label_id: str, tree_size: int | None = None) -> dict[str, Any] | None:
        """The label's envelope, its entries and its issuer's entries, each with an inclusion proof against
        the checkpoint of ``tree_size`` (default: the newest)."""
        row = await self.reader.labels.get(label_id)
        head = await self.head(tree_size)
        if row is None or head is None:
            return None
        issuer_id = row.source.issuer_id
        issuer_pairs, _ = await self._issuer_entries(issuer_id)
        issuer_proven = self.issuer_proofs.get((issuer_id, head.tree_size))
        if issuer_proven is None:
            issuer_proven = await self._proven(issuer_pairs, head.tree_size)
            self.issuer_proofs[(issuer_id, head.tree_size)] = issuer_proven
        return {
            "label_id": label_id,
            "tree_size": head.tree_size,
            "checkpoint": await self.checkpoint(head),
            "log": {"origin": self.signer.origin, "vkey": self.vkey},
            "envelope": jsonio.loads(row.source.envelope),
            "entries": await self._proven(row.entries, head.tree_size),
            "issuer_entries": issuer_proven,
        }

    async def _proven(self, pairs: list[tuple[int, bytes]], tree_size: int) -> list[dict[str, Any]]:
        out = []
        for index, entry in pairs:
            if index >= tree_size:
                continue
            path = await self.reader.inclusion_path(index, tree_size)
            out.append(
                {
                    "index": index,
                    "entry": entry.decode("utf-8", errors="replace"),  # a non-UTF-8 entry fails its proof
                    "audit_path": [h.hex() for h in path],
                }
            )
        return out


def _word(doc: dict[str, Any]) -> str:
    """The status word; a valid label of a product without security updates says that too."""
    if doc["status"] == "active" and doc.get("support_ended"):
        return "Valid, but no security updates"
    return STATUS_WORD[doc["status"]]
