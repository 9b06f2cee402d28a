"""Budgets bound every branch of a firmware scan: bytes written, file count, depth, time, memory,
decompression ratio, cracking time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MiB = 1024 * 1024


class BudgetName(StrEnum):
    QUICK = "quick"
    STANDARD = "standard"
    DEEP = "deep"


@dataclass(frozen=True, slots=True)
class Budget:
    name: str
    wall_s: float  # whole extraction
    bytes_written: int  # total bytes the extraction may write
    files: int  # number of extracted files and directories
    depth: int  # unblob recursion depth
    crack_s: float  # total time for default-password verification
    scan_file_bytes: int  # files bigger than this are skipped by the content scanners (recorded)
    analysis_s: float  # time for the inventory collectors after extraction
    memory_bytes: int = 1024 * MiB  # resident memory of any one extraction process
    max_ratio: float = 100.0  # one extraction may write this many times its input ...
    ratio_floor: int = 64 * MiB  # ... or this much, whichever is more (never more than bytes_written)


BUDGETS: dict[BudgetName, Budget] = {
    BudgetName.QUICK: Budget("quick", 60.0, 512 * MiB, 20_000, 4, 5.0, 16 * MiB, 60.0, 512 * MiB, 100.0, 32 * MiB),
    BudgetName.STANDARD: Budget("standard", 300.0, 2048 * MiB, 50_000, 8, 30.0, 64 * MiB, 300.0),
    BudgetName.DEEP: Budget("deep", 1800.0, 8192 * MiB, 500_000, 12, 300.0, 512 * MiB, 1800.0, 4096 * MiB, 1000.0),
}


def budget_for(name: str | BudgetName) -> Budget:
    return BUDGETS[BudgetName(name)]
