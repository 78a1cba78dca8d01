"""Request validation: every rule, every error at once, canonical valid requests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.routing.guide import StageGuide, load_guide
from hub.routing.model import (
    ORIGIN_GUIDE,
    ORIGIN_REQUEST,
    Company,
    Draft,
    DraftNeed,
    Need,
    RequestInvalid,
)
from hub.routing.validate import validate
from proto import codes

NOW = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
H = 3600
D = 86400
COMPANY = Company("(주)한빛배터리", "1248100998", "김담당", "kim@hanbit.kr", "")
GUIDE: StageGuide = load_guide()


def need(**changes: Any) -> DraftNeed:
    base = DraftNeed(
        stage="validation",
        category="battery-cycler",
        service="test-analysis",
        hours=8,
        earliest=NOW + D,
        latest=NOW + 8 * D,
    )
    return dataclasses.replace(base, **changes)


def draft(**changes: Any) -> Draft:
    company = changes.pop("company", {})
    base = Draft(
        company=dataclasses.replace(COMPANY, **company),
        project_title="파우치 셀 개발",
        technology_area="secondary-battery-cell",
        needs=(need(),),
    )
    return dataclasses.replace(base, **changes)


def staged(**changes: Any) -> Draft:
    """A draft naming stages for the guide (by default validation, on a 29-day window)."""
    base: dict[str, Any] = {"stages": ("validation",), "earliest": NOW + D, "latest": NOW + 30 * D}
    return draft(**{**base, "needs": (), **changes})


def errors(d: Draft) -> dict[str, str]:
    with pytest.raises(RequestInvalid) as info:
        validate(d, GUIDE, NOW)
    found = {e.field: e.message for e in info.value.errors}
    assert len(found) == len(info.value.errors), "one error per field"
    return found


def test_a_request_with_needs_comes_back_canonical() -> None:
    d = draft(
        company={"name": " (주)한빛배터리 ", "business_number": "124 81 00998"},
        technology_area=" Secondary-Battery-Cell ",
        goal=" 파우치 셀 상용화 ",
        needs=(
            need(
                stage="VALIDATION",
                service="test_analysis",
                capabilities=(" Cell ", "cell", "512-CH", ""),
                region=" chungbuk ",
                note=" 급함 ",
            ),
            need(stage="prototype", category="pilot-coater", service="", hours=1.5),
        ),
    )
    r = validate(d, GUIDE, NOW)
    assert r.company == Company("(주)한빛배터리", "124-81-00998", "김담당", "kim@hanbit.kr", "")
    assert (r.technology_area, r.industry, r.goal) == (
        "secondary-battery-cell",
        "electrical-electronics",
        "파우치 셀 상용화",
    )
    assert r.needs == (
        Need(
            stage="validation",
            category="battery-cycler",
            capabilities=("cell", "512-ch"),
            service="test-analysis",
            hours=8.0,
            earliest=NOW + D,
            latest=NOW + 8 * D,
            region="chungbuk",
            note="급함",
            origin=ORIGIN_REQUEST,
        ),
        Need("prototype", "pilot-coater", (), None, 1.5, NOW + D, NOW + 8 * D),
    )


def test_capabilities_alone_are_enough_and_a_phone_replaces_the_email() -> None:
    d = draft(
        company={"contact_email": "", "contact_phone": "+82 10-1234-5678"},
        needs=(need(category="", capabilities=("nail-penetration",)),),
    )
    r = validate(d, GUIDE, NOW)
    assert (r.needs[0].category, r.needs[0].capabilities) == (None, ("nail-penetration",))


def test_an_earliest_slightly_in_the_past_is_taken_as_now() -> None:
    r = validate(draft(needs=(need(earliest=NOW - 20 * H),)), GUIDE, NOW)
    assert r.needs[0].earliest == NOW


def test_stages_get_their_needs_from_the_guide() -> None:
    d = staged(stages=("validation", "Design", "VALIDATION"), region="chungbuk")
    r = validate(d, GUIDE, NOW)
    area = GUIDE.area("secondary-battery-cell")
    assert area is not None
    expected = [*area.needs_for("validation"), *area.needs_for("design")]
    assert [(n.stage, n.category, n.service, n.hours) for n in r.needs] == [
        (g.stage, g.category, g.service, g.hours) for g in expected
    ]
    assert {(n.origin, n.earliest, n.latest, n.region) for n in r.needs} == {
        (ORIGIN_GUIDE, NOW + D, NOW + 30 * D, "chungbuk")
    }
    assert r.needs[0].note == expected[0].note


def test_the_drafts_hours_replace_the_guides() -> None:
    r = validate(staged(hours=4), GUIDE, NOW)
    assert {n.hours for n in r.needs} == {4.0}
    assert r.needs[0].region is None


WINDOW_6H = {"earliest": NOW + D, "latest": NOW + D + 6 * H}


@pytest.mark.parametrize(
    ("d", "field", "message"),
    [
        (draft(company={"name": " "}), "company.name", "is required; write the company's name"),
        (draft(company={"contact_name": ""}), "company.contact_name", "is required"),
        (draft(company={"business_number": ""}), "company.business_number", "10-digit"),
        (
            draft(company={"business_number": "124-81-00997"}),
            "company.business_number",
            "check the number on the registration certificate",
        ),
        (
            draft(company={"business_number": "12-34"}),
            "company.business_number",
            "has 4 digits, not 10",
        ),
        (draft(company={"contact_email": "kim"}), "company.contact_email", "not an email address"),
        (draft(company={"contact_email": "a@b"}), "company.contact_email", "write name@example"),
        (
            draft(company={"contact_email": ""}),
            "company.contact_email",
            "give a contact email or a phone number",
        ),
        (draft(company={"contact_phone": "call me"}), "company.contact_phone", "7 to 15 digits"),
        (draft(company={"contact_phone": "12-34"}), "company.contact_phone", "not a phone number"),
        (draft(project_title=""), "project_title", "is required; name the project"),
        (draft(project_title="x" * 201), "project_title", "201 characters long; shorten it"),
        (draft(project_title="a\x00b"), "project_title", "contains a NUL character"),
        (draft(goal="g" * 2001), "goal", "at most 2000"),
        (
            draft(technology_area=""),
            "technology_area",
            "is required; use one of: secondary-battery-cell,",
        ),
        (
            draft(technology_area="rocket"),
            "technology_area",
            "unknown technology area 'rocket'; use one of: secondary-battery-cell,",
        ),
        (draft(needs=()), "needs", "is empty; list what you need at each stage, or name"),
        (draft(stages=("design",)), "stages", "give either needs or stages, not both"),
        (draft(needs=(need(),) * 21), "needs", "21 needs given; ask for at most 20"),
        (draft(needs=(need(stage=""),)), "needs[0].stage", "is required; use one of: planning,"),
        (draft(needs=(need(stage="testing"),)), "needs[0].stage", "unknown R&D stage 'testing'"),
        (
            draft(needs=(need(category="", capabilities=()),)),
            "needs[0].category",
            "give an equipment category (e.g. battery-cycler), capabilities, or both",
        ),
        (draft(needs=(need(category="c" * 65),)), "needs[0].category", "at most 64"),
        (
            draft(needs=(need(capabilities=tuple(f"t{i}" for i in range(17))),)),
            "needs[0].capabilities",
            "17 capabilities given; ask for at most 16",
        ),
        (
            draft(needs=(need(capabilities=("ok", "x" * 65)),)),
            "needs[0].capabilities[1]",
            "at most 64",
        ),
        (
            draft(needs=(need(capabilities="cell"),)),
            "needs[0].capabilities",
            "must be a list of capability tags",
        ),
        (draft(needs=(need(service="repair"),)), "needs[0].service", "unknown service kind"),
        (draft(needs=(need(hours=None),)), "needs[0].hours", "is required; give the hours"),
        (draft(needs=(need(hours=0),)), "needs[0].hours", "hours must be more than 0 (got 0)"),
        (draft(needs=(need(hours=-2),)), "needs[0].hours", "more than 0"),
        (draft(needs=(need(hours=float("nan")),)), "needs[0].hours", "must be a number"),
        (draft(needs=(need(hours=True),)), "needs[0].hours", "must be a number"),
        (draft(needs=(need(hours=1.01),)), "needs[0].hours", "not a whole number of minutes"),
        (
            draft(needs=(need(hours=10, **WINDOW_6H),)),
            "needs[0].hours",
            "hours 10 is longer than the window (6 h between earliest and latest); "
            "widen the window or ask for fewer hours",
        ),
        (draft(needs=(need(earliest=None),)), "needs[0].earliest", "is required; give the first"),
        (draft(needs=(need(latest=None),)), "needs[0].latest", "is required; give the moment"),
        (
            draft(needs=(need(earliest=float(NOW + D)),)),
            "needs[0].earliest",
            "must be a point in time",
        ),
        (
            draft(needs=(need(latest=NOW + D),)),
            "needs[0].latest",
            "latest (2026-12-02T00:00:00Z) is not after earliest (2026-12-02T00:00:00Z)",
        ),
        (
            draft(needs=(need(earliest=NOW - 3 * H, latest=NOW - H),)),
            "needs[0].latest",
            "the window ends in the past (2026-11-30T23:00:00Z)",
        ),
        (
            draft(needs=(need(earliest=NOW - 2 * D),)),
            "needs[0].earliest",
            "more than a day in the past; give a start from today on",
        ),
        (
            draft(needs=(need(earliest=NOW + 400 * D, latest=NOW + 401 * D),)),
            "needs[0].earliest",
            "more than 366 days ahead",
        ),
        (
            draft(needs=(need(latest=NOW + 94 * D),)),
            "needs[0].latest",
            "the window is 93.0 days long; make it at most 92 days",
        ),
        (draft(needs=(need(region="r" * 65),)), "needs[0].region", "at most 64"),
        (draft(needs=(need(note="n" * 501),)), "needs[0].note", "at most 500"),
        (staged(stages=("testing",)), "stages[0]", "unknown R&D stage 'testing'"),
        (
            staged(stages=("validation", "planning"), technology_area="advanced-alloy"),
            "stages[1]",
            "the guide has no needs for stage 'planning' in area 'advanced-alloy'; use one of: "
            "design, development, prototype, validation, or list the needs yourself",
        ),
        (staged(earliest=None), "earliest", "is required"),
        (staged(latest=NOW - H), "latest", "not after earliest"),
        (staged(hours=0), "hours", "more than 0"),
        (
            staged(hours=10, **WINDOW_6H),
            "hours",
            "hours 10 is longer than the window (6 h between earliest and latest)",
        ),
        (
            staged(stages=("design", "validation"), earliest=NOW + D, latest=NOW + D + 10 * H),
            "stages[1]",
            "the guide plans 168 h of battery-cycler, 16 h of abuse-chamber at stage "
            "'validation', longer than the window (10 h); widen the window or set hours",
        ),
        (staged(region="r" * 65), "region", "at most 64"),
        (staged(latest=None), "latest", "is required"),
    ],
)
def test_each_rule_names_its_field_and_what_to_write(d: Draft, field: str, message: str) -> None:
    found = errors(d)
    assert field in found, found
    assert message in found[field]


def test_every_error_is_reported_at_once() -> None:
    d = draft(
        company={"name": "", "business_number": "1", "contact_email": "x"},
        project_title="",
        technology_area="rocket",
        needs=(
            need(),
            need(stage="nope", category="", hours=0, latest=None),
            need(hours=10, **WINDOW_6H),
        ),
    )
    assert list(errors(d)) == [
        "company.name",
        "company.business_number",
        "company.contact_email",
        "project_title",
        "technology_area",
        "needs[1].stage",
        "needs[1].category",
        "needs[1].latest",
        "needs[1].hours",
        "needs[2].hours",
    ]
    # The exception's text lists them too, for logs and the gRPC details.
    with pytest.raises(RequestInvalid, match=r"company\.name: is required; .*needs\[2\]\.hours"):
        validate(d, GUIDE, NOW)


def test_a_bad_area_still_reports_the_stages_and_window() -> None:
    d = staged(technology_area="rocket", stages=("testing",), earliest=None)
    assert list(errors(d)) == ["technology_area", "stages[0]", "earliest"]


def test_a_guide_proposing_too_many_needs_is_refused(tmp_path: Path) -> None:
    need_text = '[[areas.needs]]\nstage = "design"\ncategory = "xrd"\nhours = 1\n'
    text = 'version = "t"\n'
    for industry in codes.INDUSTRY.codes:
        text += (
            f'[[areas]]\ncode = "a-{industry}"\nname_ko = "가"\nname_en = "A"\n'
            f'industry = "{industry}"\n' + need_text * 21
        )
    (tmp_path / "g.toml").write_text(text, encoding="utf-8")
    guide = load_guide(tmp_path / "g.toml")
    with pytest.raises(RequestInvalid) as info:
        validate(staged(stages=("design",), technology_area="a-bio"), guide, NOW)
    assert [(e.field, e.message[:31]) for e in info.value.errors] == [
        ("stages", "the guide proposes 21 needs for")
    ]


@pytest.mark.parametrize(
    ("d", "field"),
    [
        (draft(needs=(need(hours=1e308),)), "needs[0].hours"),
        (draft(needs=(need(hours=5000.0),)), "needs[0].hours"),
        (draft(needs=(need(earliest=-(10**12)),)), "needs[0].earliest"),
        (draft(needs=(need(latest=10**15),)), "needs[0].latest"),
        (staged(hours=1e308), "hours"),
    ],
)
def test_absurd_numbers_are_field_errors_not_crashes(d: Draft, field: str) -> None:
    # gRPC callers can send any double or Timestamp; none may escape as an exception.
    assert field in errors(d)
