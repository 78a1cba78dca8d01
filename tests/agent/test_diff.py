from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.diff import Upsert, apply, diff
from proto.records import Key

keys = st.tuples(st.sampled_from([1, 2]), st.text("abcde", min_size=1, max_size=3))
hashes = st.binary(min_size=1, max_size=2)  # tiny hashes: equal hashes are common
old_maps = st.dictionaries(keys, hashes, max_size=30)
new_maps = st.dictionaries(keys, st.tuples(hashes, st.integers()), max_size=30)


def hashes_of(new: dict[Key, tuple[bytes, int]]) -> dict[Key, bytes]:
    return {k: h for k, (h, _) in new.items()}


@given(old_maps, new_maps)
def test_applying_the_diff_to_old_yields_new(
    old: dict[Key, bytes], new: dict[Key, tuple[bytes, int]]
) -> None:
    d = diff(old, new)
    assert apply(old, d) == hashes_of(new)
    # Upserts carry the new values, not just the hashes.
    assert all(new[u.key] == (u.hash, u.value) for u in d.upserts)


@given(new_maps)
def test_diff_of_a_snapshot_with_itself_is_empty(new: dict[Key, tuple[bytes, int]]) -> None:
    d = diff(hashes_of(new), new)
    assert d.empty
    assert d.unchanged == len(new)


@given(old_maps, new_maps)
def test_sizes_are_bounded_and_add_up(
    old: dict[Key, bytes], new: dict[Key, tuple[bytes, int]]
) -> None:
    d = diff(old, new)
    assert len(d.upserts) + d.unchanged == len(new)
    assert len(d.deletes) <= len(old)
    assert len(d.deletes) + d.unchanged <= len(old)
    # Only keys that really differ appear.
    assert {u.key for u in d.upserts} == {k for k, (h, _) in new.items() if old.get(k) != h}
    assert set(d.deletes) == set(old) - set(new)


@given(old_maps, new_maps)
def test_order_is_deterministic_whatever_the_input_order(
    old: dict[Key, bytes], new: dict[Key, tuple[bytes, int]]
) -> None:
    d1 = diff(old, new)
    d2 = diff(dict(reversed(old.items())), dict(reversed(new.items())))
    assert d1 == d2
    assert [u.key for u in d1.upserts] == sorted(u.key for u in d1.upserts)
    assert list(d1.deletes) == sorted(d1.deletes)


def test_a_changed_hash_is_an_upsert_and_a_missing_key_a_delete() -> None:
    old = {(1, "a"): b"1", (1, "b"): b"2", (2, "c"): b"3"}
    new = {(1, "a"): (b"1", "A"), (1, "b"): (b"9", "B"), (2, "d"): (b"4", "D")}
    d = diff(old, new)
    assert d.upserts == (Upsert((1, "b"), b"9", "B"), Upsert((2, "d"), b"4", "D"))
    assert d.deletes == ((2, "c"),)
    assert d.unchanged == 1
