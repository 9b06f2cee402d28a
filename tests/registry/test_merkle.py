"""Property tests of the RFC 9162 Merkle log: proofs verify for every size up to 1,000; tampering breaks them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe.registry import merkle

N = 1000
ENTRIES = [f"entry-{i}".encode() for i in range(N)]
NODES = merkle.new_nodes(0, [merkle.leaf_hash(e) for e in ENTRIES], {})
GET = merkle.getter_from(NODES)


def reference_root(entries: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 section 2.1.1, recursively over the entries."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_root(entries[:k]) + reference_root(entries[k:])).digest()


@pytest.mark.parametrize("size", [pytest.param(n, id=f"n{n}") for n in (1, 2, 3, 4, 5, 7, 8, 9, 100, 1000)])
def test_root_matches_the_rfc_definition(size: int) -> None:
    assert merkle.root(size, GET) == reference_root(ENTRIES[:size])


def test_known_answer_for_the_empty_tree_and_one_leaf() -> None:
    # RFC 9162 hashes: empty tree is SHA-256(""); one leaf is SHA-256(0x00 || entry).
    assert merkle.root(0, GET).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root(1, GET) == hashlib.sha256(b"\x00entry-0").digest()


def test_every_inclusion_and_consistency_proof_verifies_for_every_size_up_to_1000() -> None:
    # Given a log of 1,000 entries, when we prove every leaf of every size against its root,
    # then each proof verifies (inclusion for the last leaf, a sampled leaf and the first leaf of each
    # size, and consistency from every earlier size sampled along the way).
    for size in range(1, N + 1):
        root = merkle.root(size, GET)
        for index in {0, size - 1, (size * 7) // 11}:
            path = merkle.inclusion_path(index, size, GET)
            merkle.verify_inclusion(index, size, merkle.leaf_hash(ENTRIES[index]), path, root)
        for first in {1, size, max(1, size // 2), max(1, size - 1), max(1, (size * 3) // 5)}:
            proof = merkle.consistency_path(first, size, GET)
            merkle.verify_consistency(first, size, merkle.root(first, GET), root, proof)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_leaf_inclusion_verifies(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, N))
    index = data.draw(st.integers(0, size - 1))
    path = merkle.inclusion_path(index, size, GET)
    merkle.verify_inclusion(index, size, merkle.leaf_hash(ENTRIES[index]), path, merkle.root(size, GET))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_changing_an_entry_breaks_inclusion(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, N))
    index = data.draw(st.integers(0, size - 1))
    forged = ENTRIES[index] + data.draw(st.binary(min_size=1, max_size=8))
    path = merkle.inclusion_path(index, size, GET)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(forged), path, merkle.root(size, GET))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_changing_an_entry_breaks_the_root_and_consistency(data: st.DataObject) -> None:
    # Given an honest tree head at size `first`, when a log rewrites any entry before `first` and publishes
    # a head at size `second` over the rewritten entries, then no proof it can build links the two heads.
    second = data.draw(st.integers(2, 300))
    first = data.draw(st.integers(1, second - 1))
    victim = data.draw(st.integers(0, first - 1))
    tampered = list(ENTRIES[:second])
    tampered[victim] = tampered[victim] + b"!"
    bad = merkle.getter_from(merkle.new_nodes(0, [merkle.leaf_hash(e) for e in tampered], {}))
    assert merkle.root(second, bad) != merkle.root(second, GET)
    proof = merkle.consistency_path(first, second, bad)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, merkle.root(first, GET), merkle.root(second, bad), proof)
    honest = merkle.consistency_path(first, second, GET)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, merkle.root(first, GET), merkle.root(second, bad), honest)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_changing_a_proof_hash_breaks_it(data: st.DataObject) -> None:
    size = data.draw(st.integers(2, N))
    first = data.draw(st.integers(1, size - 1))
    proof = merkle.consistency_path(first, size, GET)
    if not proof:
        return
    at = data.draw(st.integers(0, len(proof) - 1))
    proof[at] = bytes(b ^ 0xFF for b in proof[at])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, size, merkle.root(first, GET), merkle.root(size, GET), proof)


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_appending_in_batches_builds_the_same_tree(cuts: list[int]) -> None:
    # Given the same entries appended in arbitrary batches, the stored nodes give the one-shot root.
    nodes: dict[merkle.NodeKey, bytes] = {}
    size = 0
    for cut in cuts:
        batch = [merkle.leaf_hash(e) for e in ENTRIES[size : size + cut]]
        nodes.update(merkle.new_nodes(size, batch, {k: nodes[k] for k in merkle.peaks(size)}))
        size += len(batch)
    assert merkle.root(size, merkle.getter_from(nodes)) == merkle.root(size, GET)


@pytest.mark.parametrize(
    ("index", "size"),
    [pytest.param(5, 5, id="index-equals-size"), pytest.param(-1, 3, id="negative"), pytest.param(0, 0, id="empty")],
)
def test_impossible_inclusion_requests_are_refused(index: int, size: int) -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_path(index, size, GET)


def test_wrong_length_proofs_are_refused() -> None:
    path = merkle.inclusion_path(3, 10, GET)
    root = merkle.root(10, GET)
    leaf = merkle.leaf_hash(ENTRIES[3])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(3, 10, leaf, [*path, path[0]], root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(3, 10, leaf, path[:-1], root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(4, 10, merkle.root(4, GET), root, [])
