"""The stage guide: the shipped draft is complete and every broken guide is refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.routing.guide import DEFAULT_GUIDE_PATH, GuideError, load_guide
from proto import codes

INDUSTRIES = codes.INDUSTRY.codes


def _area(code: str, industry: str, need: str = "") -> str:
    need = need or 'stage = "validation"\ncategory = "battery-cycler"\nhours = 8\n'
    return (
        f'[[areas]]\ncode = "{code}"\nname_ko = "가"\nname_en = "A"\nindustry = "{industry}"\n'
        f"[[areas.needs]]\n{need}\n"
    )


def _guide(tmp_path: Path, text: str = "", *, skip: str = "") -> Path:
    """A valid small guide (one area per industry) plus ``text``, minus ``skip``'s area."""
    body = 'version = "test 1"\n' + text
    for industry in INDUSTRIES:
        if industry != skip:
            body += _area(f"area-{industry}", industry)
    path = tmp_path / "guide.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_guide_covers_every_industry_with_two_to_four_areas() -> None:
    guide = load_guide()
    assert guide.source == str(DEFAULT_GUIDE_PATH)
    assert guide.version == "2026-11 draft 1"
    for industry in INDUSTRIES:
        assert 2 <= len(guide.for_industry(industry)) <= 4, industry
    assert guide.for_industry(None) == guide.areas
    assert len(set(guide.codes)) == len(guide.areas)


def test_shipped_battery_area_follows_the_design_table() -> None:
    area = load_guide().area("secondary-battery-cell")
    assert area is not None
    assert area.industry == "electrical-electronics"

    def kinds(stage: str) -> set[tuple[str | None, str | None]]:
        return {(n.category, n.service) for n in area.needs_for(stage)}

    assert kinds("design") & {("xrd", "test-analysis"), ("sem", "test-analysis")}
    assert ("pilot-coater", "equipment-use") in kinds("prototype")
    assert {("battery-cycler", "test-analysis"), ("abuse-chamber", "test-analysis")} <= kinds(
        "validation"
    )
    assert {c for c, _ in kinds("commercialization")} & {"abuse-chamber", "emc-chamber"}
    assert area.stages == tuple(codes.STAGE.codes)


def test_lookups_accept_any_spelling_of_codes() -> None:
    guide = load_guide()
    area = guide.area(" EV-Drive-Motor ")
    assert area is not None and area.code == "ev-drive-motor"
    assert guide.area("no-such-area") is None
    assert area.needs_for("VALIDATION") == area.needs_for("validation") != ()
    assert {a.industry for a in guide.for_industry("Shipbuilding_Ocean")} == {"shipbuilding-ocean"}


def test_a_small_valid_guide_loads_with_canonical_codes(tmp_path: Path) -> None:
    need = (
        'stage = "Mass_Production"\ncapabilities = ["EDS", "eds", "1nm"]\n'
        'service = "TEST-ANALYSIS"\nhours = 1.5\nnote = " why "\n'
    )
    guide = load_guide(_guide(tmp_path, _area("x-ray", "bio", need)))
    area = guide.area("x-ray")
    assert area is not None
    (n,) = area.needs
    assert (n.stage, n.category, n.capabilities, n.service, n.hours, n.note) == (
        "mass-production",
        None,
        ("eds", "1nm"),
        "test-analysis",
        1.5,
        "why",
    )
    assert guide.source == str(tmp_path / "guide.toml")


def test_a_guide_without_an_industry_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(GuideError, match=r"industry 'materials' has no area") as info:
        load_guide(_guide(tmp_path, skip="materials"))
    assert str(tmp_path / "guide.toml") in str(info.value)


NEED = 'stage = "design"\ncategory = "xrd"\nhours = 8\n'


@pytest.mark.parametrize(
    ("extra", "where", "fix"),
    [
        ('versoin = "x"\n', "versoin: unknown key", "use one of: version, areas"),
        (_area("bad", "bio").replace("name_en", "name_eng"), "area 'bad': name_eng", "remove it"),
        (_area("bad", "bio", NEED + "hour = 8\n"), "area 'bad': needs[0].hour: unknown key", ""),
        (_area("Bad_Code", "bio"), "area 'Bad_Code': code", "lower-case letters"),
        (_area("area-bio", "bio"), "area 'area-bio': code: is used by an earlier area", ""),
        (_area("bad", "biology"), "area 'bad': industry: unknown industry 'biology'", "bio,"),
        (
            _area("bad", "bio", NEED.replace("design", "testing")),
            "area 'bad': needs[0].stage: unknown R&D stage 'testing'",
            "planning, design",
        ),
        (
            _area("bad", "bio", NEED + 'service = "repair"\n'),
            "area 'bad': needs[0].service: unknown service kind",
            "equipment-use",
        ),
        (
            _area("bad", "bio", 'stage = "design"\nhours = 8\n'),
            "area 'bad': needs[0].category: neither category nor capabilities",
            "write the equipment category",
        ),
        (
            _area("bad", "bio", NEED.replace('"xrd"', '"X RD"')),
            "area 'bad': needs[0].category: 'X RD' is not a code",
            "",
        ),
        (_area("bad", "bio", NEED.replace("8", "0")), "needs[0].hours: 0 is out of range", ""),
        (_area("bad", "bio", NEED.replace("8", "2001")), "needs[0].hours: 2001", "at most 2000"),
        (_area("bad", "bio", NEED.replace("8", "1.01")), "not whole minutes", ""),
        (_area("bad", "bio", NEED.replace("8", '"8"')), "needs[0].hours: '8' is not a number", ""),
        (
            _area("bad", "bio", NEED.replace("hours = 8", "")),
            "needs[0].hours: is missing",
            "e.g. 8",
        ),
        (
            _area("bad", "bio", NEED + 'capabilities = "eds"\n'),
            "needs[0].capabilities: 'eds' is not a list",
            "",
        ),
        (
            _area("bad", "bio", NEED + 'capabilities = [" "]\n'),
            "needs[0].capabilities[0]: is missing or empty",
            "",
        ),
        (_area("bad", "bio").replace('name_ko = "가"', 'name_ko = ""'), "'bad': name_ko", ""),
        (
            _area("bad", "bio").replace('industry = "bio"', ""),
            "area 'bad': industry: is missing",
            "",
        ),
        (
            '[[areas]]\ncode = "bare"\nname_ko = "가"\nname_en = "A"\nindustry = "bio"\n',
            "area 'bare': needs: no needs",
            "[[areas.needs]]",
        ),
        ('[[areas]]\nname_ko = "x"\n', "areas[0]: code: is missing", ""),
    ],
)
def test_a_broken_guide_is_refused_naming_file_area_and_field(
    tmp_path: Path, extra: str, where: str, fix: str
) -> None:
    # Bad areas go first so that checks running in file order reach them.
    with pytest.raises(GuideError) as info:
        load_guide(_guide(tmp_path, extra))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'guide.toml'}: ")
    assert where in message
    assert fix in message


def test_missing_version_and_areas_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(GuideError, match="version: is missing"):
        load_guide(path)
    path.write_text('version = "1"\n', encoding="utf-8")
    with pytest.raises(GuideError, match=r"areas: no areas; add \[\[areas\]\]"):
        load_guide(path)


def test_unreadable_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(GuideError, match=r"not found; check \[routing\] guide"):
        load_guide(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = \n", encoding="utf-8")
    with pytest.raises(GuideError, match="not valid TOML"):
        load_guide(bad)
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(GuideError, match="UTF-8"):
        load_guide(str(bad))
