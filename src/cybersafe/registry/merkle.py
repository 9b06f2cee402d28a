"""RFC 9162 Merkle tree hashing, proofs and their verification, over any store of complete subtrees.

A *node* ``(level, index)`` is the hash of the complete subtree of ``2**level`` leaves starting at leaf
``index * 2**level``. Every subtree the RFC 9162 algorithms ever ask for (section 2.1) is aligned, so it is
either such a node or splits into at most ``log2(n)`` of them. A store that keeps every node therefore
answers roots, inclusion proofs and consistency proofs with O(log n) look-ups, fetched in one batch:
:func:`needed_nodes` runs an algorithm once against a recorder to learn which nodes it reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
NodeGetter = Callable[[int, int], bytes]
T = TypeVar("T")


class ProofError(ValueError):
    """A proof does not verify (wrong length, wrong hashes, impossible indices)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, end: int, get: NodeGetter) -> bytes:
    """MTH(D[start:end]) for an aligned range, from stored complete subtrees."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return get(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, get), subtree_hash(start + k, end, get))


def root(size: int, get: NodeGetter) -> bytes:
    return subtree_hash(0, size, get)


def inclusion_path(index: int, size: int, get: NodeGetter) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, get))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, get))
            start = start + k
    path.reverse()
    return path


def consistency_path(first: int, second: int, get: NodeGetter) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof between sizes {first} and {second}")
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(start, end, get))
            break
        k = _split(n)
        if m <= k:
            proof.append(subtree_hash(start + k, end, get))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, get))
            start, m, whole = start + k, m - k, False
    proof.reverse()
    return proof


def needed_nodes(algorithm: Callable[[NodeGetter], object]) -> set[NodeKey]:
    """The nodes ``algorithm`` reads, found by running it once against a recorder."""
    seen: set[NodeKey] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return bytes(32)

    algorithm(record)
    return seen


def getter_from(nodes: Mapping[NodeKey, bytes]) -> NodeGetter:
    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise ProofError(f"the log store lacks node ({level}, {index})") from None

    return get


def peaks(size: int) -> list[NodeKey]:
    """The complete subtrees that make up a tree of ``size`` leaves, left to right."""
    out: list[NodeKey] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            out.append((level, start >> level))
            start += 1 << level
    return out


def new_nodes(size: int, leaf_hashes: Iterable[bytes], existing: Mapping[NodeKey, bytes]) -> dict[NodeKey, bytes]:
    """Every node created by appending ``leaf_hashes`` to a tree of ``size`` leaves.

    ``existing`` must hold the peaks of the tree before the append (:func:`peaks`); no other old node is
    ever a left sibling of a new one.
    """
    known: dict[NodeKey, bytes] = dict(existing)
    created: dict[NodeKey, bytes] = {}
    index = size
    for digest in leaf_hashes:
        level, pos, current = 0, index, digest
        created[(0, pos)] = current
        known[(0, pos)] = current
        while pos & 1:
            current = node_hash(known[(level, pos - 1)], current)
            level, pos = level + 1, pos >> 1
            created[(level, pos)] = current
            known[(level, pos)] = current
        index += 1
    return created


# --- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], expected_root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, path) != expected_root:
        raise ProofError("inclusion proof does not lead to the tree head's root")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> None:
    """RFC 9162 section 2.1.4.2: ``proof`` shows the tree of ``second`` leaves extends the one of ``first``."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof between sizes {first} and {second}")
    if first == second:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise ProofError("same tree size but different roots")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fr, sr = _roots_from_consistency(first, second, path)
    if fr != first_root:
        raise ProofError("consistency proof does not match the earlier tree head")
    if sr != second_root:
        raise ProofError("consistency proof does not match the later tree head")


def _roots_from_consistency(first: int, second: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """Steps 4-8 of RFC 9162 section 2.1.4.2: the two roots the path leads to (earlier, later)."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    return fr, sr
