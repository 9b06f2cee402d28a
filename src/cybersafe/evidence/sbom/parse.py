"""Read an SBOM file into an ``SbomDocument``: CycloneDX 1.0-1.7 (JSON, XML), SPDX 2.1-2.3 (JSON, tag-value).

The format is recognised from the content, not the file name. Every refusal is one line naming the file and
the element (``components[3].name: missing or not a string``) or the real version found; a field we cannot
use is recorded in ``SbomDocument.problems`` and the rest of the document is read.

Memory: a CycloneDX JSON file larger than ``STREAM_FROM`` is read as a stream, one component at a time
(about 0.6 KiB per component); other encodings are read whole and limited to ``MAX_TREE_BYTES``. Nothing
larger than ``MAX_BYTES`` or holding more than ``MAX_COMPONENTS`` components is read: both limits are named
in the one-line refusal.
"""

from __future__ import annotations

import hashlib
import io
import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, BinaryIO

from cybersafe import safeio
from cybersafe.errors import SbomError
from cybersafe.evidence.sbom import cyclonedx, spdx
from cybersafe.evidence.sbom._fields import Reader, short
from cybersafe.evidence.sbom.model import SbomDocument

MiB = 1024 * 1024
MAX_BYTES = 192 * MiB  # streamed CycloneDX JSON; ~1.8M components of the usual size
MAX_TREE_BYTES = 64 * MiB  # SPDX JSON, tag-value and XML, which are read whole
STREAM_FROM = 16 * MiB
MAX_COMPONENTS = cyclonedx.MAX_COMPONENTS
_HEAD = 64 * 1024
_CHUNK = MiB


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n} bytes"


def _open(path: Path) -> AbstractContextManager[BinaryIO]:
    """The one place an SBOM file is opened: a regular file, for reading bytes (the size is bounded by
    ``_survey``)."""
    return safeio.open_regular(path, what="an SBOM", error=SbomError)


def load_sbom(path: str | Path) -> SbomDocument:
    """Read an SBOM file; raise ``SbomError`` naming file and element when it cannot be read."""
    path = Path(path)
    try:
        with _open(path) as stream:
            head, digest, size = _survey(path, stream)
            stream.seek(0)
            return _read(Reader(path), stream, head, digest, size)
    except OSError as exc:
        raise SbomError(f"cannot read: {exc.strerror or exc}", file=path) from exc
    except RecursionError as exc:  # a document nested deeper than the JSON reader allows
        raise SbomError("nested too deeply to read (hostile or broken document)", file=path) from exc


def _survey(path: Path, stream: IO[bytes]) -> tuple[bytes, str, int]:
    """The first bytes, the SHA-256 and the size, in one pass that stops at ``MAX_BYTES``."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    while chunk := stream.read(_CHUNK):
        if not head:
            head = chunk[:_HEAD]
        size += len(chunk)
        if size > MAX_BYTES:
            raise SbomError(f"larger than {_size(MAX_BYTES)} (the limit for an SBOM), refusing to read", file=path)
        digest.update(chunk)
    return head, digest.hexdigest(), size


def _read(reader: Reader, stream: IO[bytes], head: bytes, digest: str, size: int) -> SbomDocument:
    text = head.decode("utf-8-sig", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        if size > STREAM_FROM:
            return _large_json(reader, stream, digest)
        return _json(reader, _whole(reader, stream, size), digest)
    if size > MAX_TREE_BYTES:
        raise reader.error(
            f"larger than {_size(MAX_TREE_BYTES)}: only CycloneDX JSON is read as a stream beyond that size"
        )
    if text.startswith("<"):
        return _xml(reader, stream.read(), digest)
    if "SPDXVersion:" in text or "SPDXVersion :" in text:
        lines = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=None)
        try:
            return spdx.read_tag_value(reader, lines, digest)
        finally:
            lines.detach()  # the caller's ``with`` closes the file
    raise reader.error("not a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) document")


def _whole(reader: Reader, stream: IO[bytes], size: int) -> dict[str, Any]:
    if size > MAX_TREE_BYTES:
        raise reader.error(f"larger than {_size(MAX_TREE_BYTES)}: only CycloneDX JSON is read as a stream")
    raw = stream.read()
    try:
        data = json.loads(raw.decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError as exc:
        raise reader.error(f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(data, dict):
        raise reader.error("top level is not a JSON object")
    return data


def _json(reader: Reader, data: dict[str, Any], digest: str) -> SbomDocument:
    if set(data) == {"sbom"} and isinstance(data["sbom"], dict) and "spdxVersion" in data["sbom"]:
        data = data["sbom"]  # GitHub's dependency-graph export API wraps the SPDX document in {"sbom": ...}
    if data.get("bomFormat") == "CycloneDX":
        return cyclonedx.read_json(reader, data, digest)
    if "spdxVersion" in data:
        return spdx.read_json(reader, data, digest)
    context = data.get("@context")
    if isinstance(context, str) and "spdx" in context.lower():
        spdx.refuse_spdx3(reader, context)
    raise reader.error("neither CycloneDX (bomFormat) nor SPDX (spdxVersion)", "bomFormat")


def _large_json(reader: Reader, stream: IO[bytes], digest: str) -> SbomDocument:
    import ijson

    try:
        header = cyclonedx.stream_header(stream)
        if header.get("bomFormat") != "CycloneDX":
            raise reader.error(
                f"larger than {_size(STREAM_FROM)} and not CycloneDX JSON: only CycloneDX JSON is read as a stream"
            )
        stream.seek(0)
        return cyclonedx.read_json_stream(reader, stream, digest)
    except ijson.JSONError as exc:
        raise reader.error(f"not valid JSON: {short(exc)}") from exc


def _xml(reader: Reader, raw: bytes, digest: str) -> SbomDocument:
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(raw)
    except DefusedXmlException as exc:
        raise reader.error(f"XML refused: {exc}") from exc
    except Exception as exc:  # expat's ParseError and friends: one line, never a traceback
        line = getattr(exc, "position", (None, None))[0]
        raise reader.error(f"not well-formed XML: {short(exc)}", line=line) from exc
    return cyclonedx.read_xml(reader, root, digest)
