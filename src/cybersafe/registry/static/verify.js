// The label page checks itself, in the reader's browser, with nothing but this file and WebCrypto.
//
// 1. The envelope the registry serves hashes (SHA-256 of its canonical JSON) to the digest in the URL's
//    fragment, which came from the QR code printed on the product and is never sent to any server.
// 2. The envelope's Ed25519 signature verifies with the issuer key it names, and that key is the one in the
//    issuer's log entry (its key id is the SHA-256 of the key).
// 3. The log's C2SP checkpoint is signed by the log key; every entry of the label and of its issuer is
//    included in the checkpoint's tree (RFC 9162 inclusion proofs).
// 4. The status on the page is what those entries say (revoked, issuer revoked, replaced, expired, valid),
//    and the names and dates on the page are those of the signed label.
// It then says in plain words what it checked. A revoked label never gets a green check.
"use strict";

(function () {
  const box = document.getElementById("verdict");
  if (!box) return;
  const labelId = box.dataset.labelId;
  const statusElement = document.querySelector("[data-status]");
  const shownStatus = statusElement ? statusElement.dataset.status : "";
  const encoder = new TextEncoder();
  const WORDS = {
    active: "valid", expired: "expired", revoked: "revoked", superseded: "replaced by a newer label",
    "issuer-revoked": "issued by a label administrator that was revoked", "integrity-error": "inconsistent",
  };

  function toHex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function fromBase64(text) {
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  // Canonical JSON as the registry writes it: sorted keys, no spaces, UTF-8.
  function canonical(value) {
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
    }
    return JSON.stringify(value);
  }
  function canonicalEnvelope(envelope) {
    return canonical({
      payloadType: envelope.payloadType,
      payload: envelope.payload,
      signatures: (envelope.signatures || []).map((s) => ({ keyid: s.keyid === undefined ? "" : s.keyid, sig: s.sig })),
    });
  }
  async function ed25519Verify(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  // --- RFC 9162 Merkle tree ---------------------------------------------------------------------------
  async function leafHash(entry) { return sha256(concat(new Uint8Array([0]), entry)); }
  async function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }
  // RFC 9162 section 2.1.3.2, with BigInt so indices beyond 2^31 work.
  async function rootFromInclusion(index, size, leaf, path) {
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    if (fn > sn) throw new Error("leaf index outside the tree");
    let r = leaf;
    for (const p of path) {
      if (sn === 0n) throw new Error("inclusion proof too long");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    if (sn !== 0n) throw new Error("inclusion proof too short");
    return r;
  }

  // --- C2SP signed note and checkpoint ------------------------------------------------------------------
  function parseNote(note) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Error("the checkpoint has no signatures");
    const text = note.slice(0, split + 1);
    const signatures = note.slice(split + 2).split("\n").filter((l) => l).map((line) => {
      if (!line.startsWith("\u2014 ")) throw new Error("malformed signature line");
      const [name, sig] = line.slice(2).split(" ");
      const raw = fromBase64(sig);
      return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
    const lines = text.split("\n");
    return { text, signatures, origin: lines[0], size: BigInt(lines[1]), root: fromBase64(lines[2]) };
  }
  async function parseVkey(vkey) {
    const first = vkey.indexOf("+");
    const second = vkey.indexOf("+", first + 1);
    const [name, hexId, material] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
    const raw = fromBase64(material);
    const keyId = (await sha256(concat(encoder.encode(name + "\n"), raw))).slice(0, 4);
    if (toHex(keyId) !== hexId) throw new Error("verifier key id does not match its key");
    return { name, type: raw[0], publicKey: raw.slice(1), keyId };
  }
  async function noteSignedBy(note, verifier) {
    const found = note.signatures.find((s) => s.name === verifier.name && equal(s.keyId, verifier.keyId));
    if (!found) return false;
    if (verifier.type === 1) return ed25519Verify(verifier.publicKey, found.signature, encoder.encode(note.text));
    const view = new DataView(found.signature.buffer, found.signature.byteOffset, 8);
    const time = view.getBigUint64(0);
    const message = encoder.encode("cosignature/v1\ntime " + time.toString() + "\n" + note.text);
    return ed25519Verify(verifier.publicKey, found.signature.slice(8), message);
  }

  // --- what the entries say -----------------------------------------------------------------------------
  function today() { return new Date().toISOString().slice(0, 10); }
  function statusFrom(labelEntries, issuerEntries, record) {
    let status = "active";
    const issued = labelEntries.find((e) => e.kind === "issued");
    if (issued && issued.status === "superseded") status = "superseded";
    for (const e of labelEntries) {
      if (e.kind === "revoked") status = "revoked";
      else if (e.kind === "updated" && e.change === "superseded" && status !== "revoked") status = "superseded";
    }
    if (status === "revoked") return status;
    const statusEntries = issuerEntries.filter((e) => e.kind === "issuer-status");
    const last = statusEntries[statusEntries.length - 1];
    if (last && last.status === "revoked" && last.effective <= today()) return "issuer-revoked";
    if (status === "superseded") return status;
    if (record.valid_until < today()) return "expired";
    return "active";
  }
  // The product's support end as the page derives it: the signed one, extended by the manufacturer's logged
  // updates ("unsupported" is the earliest); a valid label of a product whose support ended is no green tick.
  function supportEnd(labelEntries, record) {
    let end = String((record.disclosures || {}).support_end);
    for (const e of labelEntries) {
      if (e.kind !== "updated" || e.change !== "support") continue;
      const next = String(e.support_end);
      if (next !== "unsupported" && (end === "unsupported" || next > end)) end = next;
    }
    return end;
  }
  function field(record, path) {
    return path.split(".").reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), record);
  }

  // --- the checks -------------------------------------------------------------------------------------
  async function check(bundle, fragment) {
    const results = [];
    // Each check says what passed, or what failed: the headline of a failed check quotes its failure.
    const add = (ok, passed, failed) => { results.push({ ok, text: ok ? passed : failed }); return ok; };
    const envelope = bundle.envelope;
    const digest = toHex(await sha256(encoder.encode(canonicalEnvelope(envelope))));
    if (fragment) {
      add(fragment === digest,
        "This is exactly the label printed on your product: its fingerprint matches the QR code.",
        "This is NOT the label printed on your product: its fingerprint differs from the QR code's.");
    }
    const body = fromBase64(envelope.payload);
    const record = JSON.parse(new TextDecoder().decode(body)).predicate;
    const here = location.origin + "/l/";
    add(typeof record.registry_url === "string" && record.registry_url.startsWith(here),
      "The label names this registry (" + location.host + ") as its home.",
      "The label names another registry than this one (" + location.host + ") as its home: " + String(record.registry_url) + ".");

    const checkpoint = parseNote(bundle.checkpoint);
    const logKey = await parseVkey(bundle.log.vkey);
    add(checkpoint.origin === logKey.name && (await noteSignedBy(checkpoint, logKey)) === true,
      "The registry's log checkpoint (" + checkpoint.size + " entries) carries a valid signature of its log key.",
      "The registry's log checkpoint does not carry a valid signature of its log key.");
    const labelEntries = [];
    const issuerEntries = [];
    let included = true;
    for (const [list, out] of [[bundle.entries, labelEntries], [bundle.issuer_entries, issuerEntries]]) {
      for (const item of list) {
        const bytes = encoder.encode(item.entry);
        const path = item.audit_path.map(fromHex);
        const root = await rootFromInclusion(item.index, checkpoint.size, await leafHash(bytes), path);
        if (!equal(root, checkpoint.root)) included = false;
        out.push(Object.assign({ index: item.index }, JSON.parse(item.entry)));
      }
    }
    add(included && labelEntries.length > 0,
      "All " + (labelEntries.length + issuerEntries.length) + " log entries of this label and its administrator are in that log.",
      labelEntries.length > 0 ? "Some log entries of this label or its administrator are not in that log."
        : "The log lists no entry for this label.");
    const issued = labelEntries.find((e) => e.kind === "issued");
    add(Boolean(issued) && issued.envelope_sha256 === digest && labelEntries.every((e) => e.label_id === labelId),
      "The log records this exact label as issued.",
      "The log does not record this exact label as issued.");

    const signatures = envelope.signatures || [];
    const signature = signatures.length === 1 ? signatures[0] : {};
    const keyEntry = issuerEntries.filter((e) => e.kind === "issuer" || e.kind === "issuer-key")
      .find((e) => e.key_id === signature.keyid);
    let signed = false;
    if (keyEntry) {
      const publicKey = fromBase64(keyEntry.public_key);
      const pae = concat(encoder.encode("DSSEv1 " + encoder.encode(envelope.payloadType).length + " " +
        envelope.payloadType + " " + body.length + " "), body);
      signed = toHex(await sha256(publicKey)) === signature.keyid &&
        await ed25519Verify(publicKey, fromBase64(signature.sig), pae);
    }
    add(signed, "The label is signed by the key that the log lists for its label administrator.",
      signatures.length !== 1 ? "The label does not carry exactly one signature, so it cannot be checked."
        : keyEntry ? "The label's signature does not verify with the key that the log lists for its label administrator."
          : "The label is signed by a key that the log lists for no label administrator.");

    const derived = statusFrom(labelEntries, issuerEntries, record);
    add(derived === shownStatus,
      "The status shown (" + WORDS[derived] + ") is what the log says.",
      "The page says \u201c" + (WORDS[shownStatus] || shownStatus) + "\u201d but the log says " + WORDS[derived] + ".");
    let fieldsMatch = true;
    for (const element of document.querySelectorAll("[data-field]")) {
      if (String(field(record, element.dataset.field)) !== element.textContent) fieldsMatch = false;
    }
    add(fieldsMatch, "The product, manufacturer, model, scheme and dates shown are those the label states.",
      "The product, manufacturer, model, scheme or dates shown differ from those the label states.");
    const cosigners = checkpoint.signatures.filter((s) => s.name !== checkpoint.origin).map((s) => s.name);
    const support = supportEnd(labelEntries, record);
    const supportEnded = support === "unsupported" || support < today();
    return { results, status: derived, supportEnded, support, cosigners, size: checkpoint.size };
  }

  function render(verdict, headline, results, footnote) {
    box.dataset.verdict = verdict;
    const marks = { verified: "\u2714", failed: "\u2718", "genuine-not-valid": "!", unanchored: "?", "not-checked": "?" };
    box.querySelector(".mark").textContent = marks[verdict];
    const div = box.querySelector("div");
    div.textContent = "";
    const h = document.createElement("h2");
    h.className = "word";
    h.id = "verdict-h";
    h.textContent = headline;
    div.appendChild(h);
    if (results.length) {
      const list = document.createElement("ul");
      list.className = "checks";
      for (const r of results) {
        const li = document.createElement("li");
        // Only a valid label gets green ticks: a revoked one's passed checks are plain bullets.
        li.className = r.ok === null || (r.ok && verdict !== "verified" && verdict !== "failed") ? "info" : r.ok ? "pass" : "fail";
        li.textContent = r.text;
        list.appendChild(li);
      }
      div.appendChild(list);
    }
    if (footnote) {
      const p = document.createElement("p");
      p.className = "small";
      p.textContent = footnote;
      div.appendChild(p);
    }
  }

  async function run() {
    const fragment = /^[0-9a-f]{64}$/.test(location.hash.slice(1)) ? location.hash.slice(1) : null;
    if (!window.crypto || !crypto.subtle) {
      render("not-checked", "Not checked by your browser: it offers no cryptography here (it needs a current browser and an https page).", [], "");
      return;
    }
    box.dataset.verdict = "checking";
    let outcome;
    try {
      const response = await fetch("/api/v1/labels/" + encodeURIComponent(labelId) + "/proof", { cache: "no-store" });
      if (!response.ok) throw new Error("the registry gave no proof (HTTP " + response.status + ")");
      outcome = await check(await response.json(), fragment);
    } catch (error) {
      render("failed", "Not verified: the check could not be completed (" + error.message + "). Do not rely on this page.", [], "");
      return;
    }
    const failed = outcome.results.filter((r) => !r.ok);
    const foot = "Checked by your browser at " + new Date().toISOString().slice(0, 16).replace("T", " ") +
      " UTC against log checkpoint " + outcome.size +
      (outcome.cosigners.length ? ", cosigned by " + outcome.cosigners.join(", ") : ", not cosigned by any witness") +
      ". A look-alike website can imitate this box: check that the address bar shows the registry printed on your label.";
    if (failed.length) {
      render("failed", "Not verified: " + failed[0].text + " Do not rely on this page.", outcome.results, foot);
    } else if (outcome.status !== "active") {
      render("genuine-not-valid", "The record is genuine, and it says this label is " + WORDS[outcome.status] + ". Do not rely on it.", outcome.results, foot);
    } else if (outcome.supportEnded) {
      render("genuine-not-valid", "The record is genuine and the label is valid, but the product gets no security updates" +
        (outcome.support === "unsupported" ? "" : " (they ended on " + outcome.support + ")") +
        ". Do not rely on it for security.", outcome.results, foot);
    } else if (!fragment) {
      outcome.results.unshift({ ok: null, text: "This page was opened without the label's QR code, so your browser cannot tell whether it is the label on your product." });
      render("unanchored", "Checked by your browser, but not tied to your product: scan the label's QR code to check that too.", outcome.results, foot);
    } else {
      render("verified", "Checked by your browser: this is the genuine label printed on your product, and it is valid.", outcome.results, foot);
    }
  }

  run();
})();
