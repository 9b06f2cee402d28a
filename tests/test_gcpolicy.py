"""The cycle collector's settings for a process that makes assessments (gcpolicy.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from cybersafe import gcpolicy


@pytest.fixture(autouse=True)
def _thresholds_restored() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_the_young_generation_grows_and_the_older_ones_keep_their_settings() -> None:
    gc.set_threshold(700, 11, 12)
    gcpolicy.for_assessments()
    assert gc.get_threshold() == (gcpolicy.YOUNG_GENERATION, 11, 12)


def test_a_larger_setting_or_a_collector_switched_off_is_left_as_it_is() -> None:
    gc.set_threshold(50_000, 10, 10)
    gcpolicy.for_assessments()
    assert gc.get_threshold() == (50_000, 10, 10)
    gc.set_threshold(0, 10, 10)
    gcpolicy.for_assessments()
    assert gc.get_threshold()[0] == 0


def test_cycles_are_still_collected() -> None:
    gcpolicy.for_assessments()
    gc.collect()

    class Node:
        other: object

    for _ in range(3 * gcpolicy.YOUNG_GENERATION):  # each a cycle, garbage at once: a young pass frees them
        node = Node()
        node.other = node
    del node
    assert sum(1 for obj in gc.get_objects() if type(obj) is Node) <= gcpolicy.YOUNG_GENERATION


def test_the_cybersafe_program_and_a_batch_worker_process_set_it() -> None:
    program = "\n".join(
        ["import gc", "import cybersafe.cli as cli", "cli.app = lambda: print(gc.get_threshold()[0])", "cli.main()"]
    )
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.strip() == str(gcpolicy.YOUNG_GENERATION)
    worker = (
        "import gc\n"
        "from unittest import mock\n"
        "from cybersafe.fleet._plugins import AssessmentWorker\n"
        "with mock.patch('cybersafe.evidence.firmware._warm.enable') as warm:\n"
        "    AssessmentWorker().setup(None)\n"
        "print(gc.get_threshold()[0], warm.call_count)\n"
    )
    shown = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.split() == [str(gcpolicy.YOUNG_GENERATION), "1"]
