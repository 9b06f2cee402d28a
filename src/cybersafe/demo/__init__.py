"""`cybersafe demo` and `make demo`: the whole job on the bundled example product, kept out of the package root.

- ``run``: the steps, end to end (``run_demo``), and where the example lives (``example_dir``);
- ``product``: the example camera's artefacts laid out for an assessment (its firmware built from real binaries);
- ``device``: the example camera's network side, simulated on 127.0.0.1 for the probe;
- ``registry``: the registry step, an embedded SQLite registry the labels are published to and verified against.

Nothing else in cybersafe imports this package; only the CLI's ``demo`` command (and tests) do.
"""

from __future__ import annotations

from cybersafe.demo.run import DemoResult, example_dir, run_demo

__all__ = ["DemoResult", "example_dir", "run_demo"]
