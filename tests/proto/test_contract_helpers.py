"""The helpers both sides share: codes, identities, validation, hashes and buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proto import codes, identity, pb, records, validate


def _entry(**kw: object) -> pb.CalendarEntry:
    e = pb.CalendarEntry(id="B-1", equipment_id="EQ-1", kind=pb.ENTRY_KIND_BOOKED)
    e.start.seconds = int(kw.pop("start", 1_800_000_000))  # type: ignore[call-overload]
    e.end.seconds = int(kw.pop("end", 1_800_003_600))  # type: ignore[call-overload]
    for k, v in kw.items():
        setattr(e, k, v)
    return e


def test_codes_round_trip_every_value() -> None:
    for cmap in (
        codes.INDUSTRY,
        codes.STAGE,
        codes.SERVICE,
        codes.ROLE,
        codes.STATUS,
        codes.ENTRY_KIND,
        codes.RECORD_KIND,
    ):
        for code in cmap.codes:
            assert cmap.code(cmap.value(code)) == code
            assert cmap.value(code.upper().replace("-", "_")) == cmap.value(code)


def test_unknown_code_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="machinery-robotics"):
        codes.INDUSTRY.value("robots")


def test_identity_round_trip_and_refusals() -> None:
    ident = identity.make("iplatform.local", "center", "KR-MR-0001")
    assert identity.parse(ident.uri) == ident
    for bad in (
        "https://x/center/a",
        "spiffe://x/center",
        "spiffe://x/admin/a",
        "spiffe://X_bad/center/a",
        "spiffe://x/center/a/b",
        "spiffe://x/center/a;drop",
    ):
        with pytest.raises(ValueError):
            identity.parse(bad)


def test_entry_rules() -> None:
    assert validate.entry(_entry()) == []
    assert any("not after start" in p for p in validate.entry(_entry(end=1_800_000_000)))
    assert any("366 days" in p for p in validate.entry(_entry(end=1_800_000_000 + 400 * 86400)))
    assert any("2000-2100" in p for p in validate.entry(_entry(start=5, end=10)))
    assert any("kind" in p for p in validate.entry(_entry(kind=pb.ENTRY_KIND_UNSPECIFIED)))
    frac = _entry()
    frac.start.nanos = 5
    assert any("whole seconds" in p for p in validate.entry(frac))


def test_equipment_rules() -> None:
    good = pb.Equipment(id="EQ-1", name_ko="장비", status=pb.EQUIPMENT_STATUS_AVAILABLE)
    assert validate.equipment(good) == []
    assert validate.equipment(pb.Equipment(id="EQ-1", name_ko="x"))  # unspecified status
    assert validate.equipment(pb.Equipment(id="bad id'--", name_ko="x", status=1))
    assert validate.equipment(pb.Equipment(id="EQ-1", name_ko="a\x00b", status=1))
    assert validate.equipment(pb.Equipment(id="EQ-1", name_ko="x" * 501, status=1))
    hours = pb.Equipment(id="EQ-1", name_ko="x", status=1)
    hours.operating_hours.add(weekday=8, start_minute=0, end_minute=60)
    assert validate.equipment(hours)


def test_change_key_must_match_body() -> None:
    ch = pb.Change(seq=1, center_id="C", key=pb.RecordKey(kind=pb.RECORD_KIND_ENTRY, id="other"))
    ch.entry.CopyFrom(_entry())
    assert any("key does not match" in p for p in validate.change(ch))
    assert validate.change(pb.Change(seq=0, center_id="C"))


@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2]),
            st.text(min_size=1, max_size=8),
            st.binary(min_size=8, max_size=8),
        ),
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_bucket_digests_ignore_order_and_see_every_change(
    items: list[tuple[int, str, bytes]],
) -> None:
    pairs = [((k, i), h) for k, i, h in items]
    d1 = records.bucket_digests(pairs, 16)
    assert records.bucket_digests(list(reversed(pairs)), 16) == d1
    assert records.unpack_digests(records.pack_digests(d1), 16) == d1
    if pairs:
        (key, h), rest = pairs[0], pairs[1:]
        changed = [(key, bytes(b ^ 0xFF for b in h)), *rest]
        d2 = records.bucket_digests(changed, 16)
        b = records.bucket_of(key, 16)
        assert d2[b] != d1[b]
        assert [x for i, x in enumerate(d2) if i != b] == [x for i, x in enumerate(d1) if i != b]


def test_record_hash_is_deterministic_and_sensitive() -> None:
    a = pb.Equipment(id="EQ-1", name_ko="장비", status=1, capabilities=["x", "y"])
    b = pb.Equipment()
    b.ParseFromString(a.SerializeToString())
    assert records.record_hash(a) == records.record_hash(b)
    b.capabilities.append("z")
    assert records.record_hash(a) != records.record_hash(b)
