"""The firmware image's digest, taken once per assessment: a delta run's plan needs it first (has the image
changed?), the scan records it, and the image's input digest is made from it. Light on purpose: ``assess``
imports it where the firmware extra may be missing."""

from __future__ import annotations

import concurrent.futures
import hashlib
import mmap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cybersafe import safeio

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier

MAX_IMAGE_BYTES = 64 * safeio.GiB  # the image itself; what unpacking may write is the budget
# a thread hashing while another works waits a switch interval (5 ms) for the interpreter after each read and
# each hash: it reads this much at a time
_BACKGROUND_BLOCK = 64 * safeio.MiB
T = TypeVar("T")


def in_background(work: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
    """``work(*args)`` in a thread of its own; its result, or what it raised, when asked for. For work that lets
    go of the interpreter (hashing) while the caller's thread goes on."""
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            result.set_result(work(*args))
        except BaseException as exc:  # noqa: BLE001 - raised where the result is asked for
            result.set_exception(exc)

    threading.Thread(target=run, name=f"background-{getattr(work, '__name__', 'work')}", daemon=True).start()
    return result


def sha256_image(image: Path, block: int = safeio.HASH_BLOCK) -> tuple[str, int]:
    """(sha256, size) of the image; the scan's error for an image it cannot read."""
    return safeio.sha256_file(image, MAX_IMAGE_BYTES, what="a firmware image", field="firmware", block=block)


def image_digest(image: Path, *, meanwhile: bool = False) -> concurrent.futures.Future[tuple[str, int]]:
    """``sha256_image`` for ``scan_image``'s ``digesting``: its result, or the error it raised, when asked for.
    Computed now, or with ``meanwhile`` in a thread of its own, for a caller that asks for it only later."""
    if meanwhile:
        return _mapped_in_background(image)
    done: concurrent.futures.Future[tuple[str, int]] = concurrent.futures.Future()
    try:
        done.set_result(sha256_image(image))
    except Exception as exc:  # noqa: BLE001 - raised where the result is asked for, as the scan's own would be
        done.set_exception(exc)
    return done


def _mapped_in_background(image: Path) -> concurrent.futures.Future[tuple[str, int]]:
    """``sha256_image`` in a thread that needs the interpreter only to start and to end: the image is opened and
    mapped here and hashed in one call (``safeio.map_regular``). A thread that reads and hashes block by block
    needs the interpreter back after each step and waits a switch interval (5 ms) each time while this thread
    works: a 20 MB image's digest, asked for 10 ms later, had not begun."""
    try:
        mapped, size = safeio.map_regular(image, MAX_IMAGE_BYTES, what="a firmware image", field="firmware")
    except (OSError, ValueError):  # a file system that maps nothing: read block by block
        return in_background(sha256_image, image, _BACKGROUND_BLOCK)
    except Exception:  # noqa: BLE001 - the image cannot be read: its error as sha256_image gives it, when asked for
        return image_digest(image)
    return in_background(_sha256_mapped, mapped, size)


def _sha256_mapped(mapped: mmap.mmap | None, size: int) -> tuple[str, int]:
    if mapped is None:  # an empty file is not mapped
        return hashlib.sha256().hexdigest(), 0
    try:
        return hashlib.sha256(mapped).hexdigest(), size
    finally:
        mapped.close()


def firmware_image(dossier: Dossier, base_dir: Path) -> Path | None:
    """The image the dossier names, when it is a regular file (anything else is the collector's error)."""
    relative = dossier.artefacts.firmware
    if relative is None or safeio.describe(path := base_dir / relative) != "a regular file":
        return None
    return path


__all__ = ["MAX_IMAGE_BYTES", "firmware_image", "image_digest", "in_background", "sha256_image"]
