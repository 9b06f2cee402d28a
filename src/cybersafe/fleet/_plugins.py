"""Dask worker plugins (a module of their own: it imports distributed, which only a cluster run needs)."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class AssessmentWorker(WorkerPlugin):
    """A worker process set up as the ``cybersafe`` program is: the cycle collector's young generation is larger
    (gcpolicy.py), and its firmware scans fork their extraction child from a warm zygote that imported unblob and
    lief once (evidence/firmware/_warm.py) instead of paying 0.5 to 0.9 s of imports per product. Registered for
    worker processes of their own only: worker threads in the caller's process (tests) start cold."""

    name = "cybersafe-assessment-worker"

    def setup(self, worker: Any) -> None:
        del worker
        from cybersafe import gcpolicy
        from cybersafe.evidence.firmware import _warm

        gcpolicy.for_assessments()
        _warm.enable()
