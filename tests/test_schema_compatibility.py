"""The partner schema against its last release (schema/compatibility.py, make schema-check).

The real check runs on the repository first: a breaking change to the partner schema
that schema/CHANGELOG.md does not record fails `make test` here. The rest builds
breaking, dangerous and cost changes from the published SDL's text and checks the check.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from graphql import BreakingChangeType, DangerousChangeType

from schema.compatibility import (
    ROOT,
    Change,
    ChangelogError,
    Paths,
    Report,
    check,
    check_repository,
    main,
    parse_changelog,
    release,
    schema_changes,
)

PUBLISHED = (ROOT / "schema.graphql").read_text()
RELEASED = (ROOT / "schema" / "releases" / "1.0.0.graphql").read_text()

CHANGELOG = """# Partner schema changelog

Entries look like `FIELD_REMOVED Badge.level` (this line records nothing).

{unreleased}## 1.0.0 — 2026-11-29

The first published partner schema.
"""


def edit(sdl: str, old: str, new: str) -> str:
    assert sdl.count(old) == 1, f"{old!r} is not once in the SDL"
    return sdl.replace(old, new)


def changelog(*entries: str) -> str:
    unreleased = "## Unreleased\n\n" + "".join(f"- `{e}`: why.\n" for e in entries) + "\n"
    return CHANGELOG.format(unreleased=unreleased if entries else "")


def run(sdl: str, changelog_text: str, releases: dict[str, str] | None = None) -> Report:
    return check(sdl, changelog_text, releases or {"1.0.0": RELEASED}, Paths.under(ROOT))


def test_the_partner_schema_is_compatible_with_its_last_release() -> None:
    report = check_repository()
    assert report.ok, report.message()
    assert report.baseline is not None
    assert (ROOT / "schema" / "releases" / f"{report.baseline}.graphql").is_file()


def test_an_unchanged_schema_passes_with_nothing_to_record() -> None:
    report = run(RELEASED, changelog())
    assert report.ok
    assert report.changes == []
    assert report.message() == (
        "schema check: the partner schema against release 1.0.0 "
        "(schema/releases/1.0.0.graphql): no breaking change."
    )


BREAKING = {
    "a removed field": (
        '  """Level of achievement."""\n  level: BadgeLevel\n',
        "",
        "FIELD_REMOVED Badge.level",
    ),
    "a changed type": (
        "  issuedCount: Int!\n",
        "  issuedCount: String!\n",
        "FIELD_CHANGED_KIND Badge.issuedCount",
    ),
    "a raised @cost": (
        "): IssueCredentialPayload! @cost(weight: 10)",
        "): IssueCredentialPayload! @cost(weight: 25)",
        "COST_RAISED Mutation.issueCredential",
    ),
    "a required argument": (
        "    id: ID!\n  ): CredentialVerification",
        "    id: ID!\n    asOf: Date!\n  ): CredentialVerification",
        "REQUIRED_ARG_ADDED Query.verifyCredential(asOf:)",
    ),
    "a free field no longer free": (
        "  viewer: Viewer! @cost(weight: 0)\n",
        "  viewer: Viewer!\n",
        "COST_RAISED Query.viewer",
    ),
    "a raised assumed size": (
        "skills: [Skill!]! @listSize(assumedSize: 5)",
        "skills: [Skill!]! @listSize(assumedSize: 50)",
        "LIST_SIZE_RAISED Badge.skills",
    ),
    "a list that loses its assumed size": (
        "skills: [Skill!]! @listSize(assumedSize: 5)",
        "skills: [Skill!]!",
        "LIST_SIZE_RAISED Badge.skills",
    ),
    "a removed slicing argument": (
        '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])',
        '): BadgeConnection! @listSize(sizedFields: ["edges", "nodes"])',
        "SLICING_ARGUMENT_REMOVED Query.badges(first:)",
    ),
    "a connection without @listSize": (
        '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])',
        "): BadgeConnection!",
        "SIZED_FIELD_REMOVED Query.badges.nodes",
    ),
    "a child list no longer sized": (
        '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])',
        '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges"])',
        "SIZED_FIELD_REMOVED Query.badges.nodes",
    ),
    "a raised default page size": (
        '    first: Int! = 20\n    """Return items after this cursor (a `pageInfo.endCursor`)."""\n'
        '    after: String = null\n    """Only badges',
        '    first: Int! = 50\n    """Return items after this cursor (a `pageInfo.endCursor`)."""\n'
        '    after: String = null\n    """Only badges',
        "LIST_SIZE_RAISED Query.badges",
    ),
    "a costlier type": (
        '"""A badge an organization can issue."""\ntype Badge {',
        '"""A badge an organization can issue."""\ntype Badge @cost(weight: 3) {',
        "COST_RAISED Badge",
    ),
}


@pytest.mark.parametrize(("old", "new", "key"), list(BREAKING.values()), ids=list(BREAKING))
def test_a_breaking_change_fails_until_the_changelog_records_it(
    old: str, new: str, key: str
) -> None:
    changed = edit(RELEASED, old, new)
    report = run(changed, changelog())
    assert not report.ok
    assert key in [change.key for change in report.unrecorded]
    message = report.message()
    # The message says exactly what to add, and where.
    assert "breaking change" in message and "schema/CHANGELOG.md" in message
    assert "## Unreleased" in message
    assert f"- `{key}`: " in message
    assert "schema/releases/1.0.0.graphql" in message
    recorded = run(changed, changelog(*(change.key for change in report.unrecorded)))
    assert recorded.ok, recorded.message()
    assert key in [change.key for change in recorded.breaking]
    assert "all recorded in schema/CHANGELOG.md" in recorded.message()


def test_the_printed_lines_pasted_into_the_changelog_pass() -> None:
    changed = edit(RELEASED, *BREAKING["a raised @cost"][:2])
    report = run(changed, changelog())
    lines = [line for line in report.message().splitlines() if line.startswith("- `")]
    assert lines == ["- `COST_RAISED Mutation.issueCredential`: @cost weight 10 → 25."]
    pasted = CHANGELOG.format(unreleased="## Unreleased\n\n" + "\n".join(lines) + "\n\n")
    assert run(changed, pasted).ok


def test_only_the_unrecorded_breaking_changes_are_listed() -> None:
    changed = edit(RELEASED, *BREAKING["a removed field"][:2])
    changed = edit(changed, *BREAKING["a raised @cost"][:2])
    report = run(changed, changelog("FIELD_REMOVED Badge.level"))
    assert [change.key for change in report.unrecorded] == ["COST_RAISED Mutation.issueCredential"]
    assert "FIELD_REMOVED Badge.level`" not in report.message()


def test_lowered_costs_are_not_breaking() -> None:
    changed = edit(
        RELEASED,
        "): IssueCredentialPayload! @cost(weight: 10)",
        "): IssueCredentialPayload! @cost(weight: 5)",
    )
    changed = edit(
        changed,
        "skills: [Skill!]! @listSize(assumedSize: 5)",
        "skills: [Skill!]! @listSize(assumedSize: 3)",
    )
    report = run(changed, changelog())
    assert report.ok, report.message()
    assert {(c.key, c.level) for c in report.changes} == {
        ("COST_LOWERED Mutation.issueCredential", "safe"),
        ("LIST_SIZE_LOWERED Badge.skills", "safe"),
    }


def test_dangerous_changes_are_reported_but_do_not_fail() -> None:
    changed = edit(
        RELEASED, '  """Mastery."""\n  EXPERT\n', '  """Mastery."""\n  EXPERT\n  MASTER\n'
    )
    changed = edit(
        changed,
        '    """The credential\'s ID."""\n    id: ID!\n  ): CredentialVerification',
        '    """The credential\'s ID."""\n    id: ID!\n    asOf: Date\n  ): CredentialVerification',
    )
    report = run(changed, changelog())
    assert report.ok
    assert report.unrecorded == []
    assert {change.key for change in report.dangerous} == {
        "VALUE_ADDED_TO_ENUM BadgeLevel.MASTER",
        "OPTIONAL_ARG_ADDED Query.verifyCredential(asOf:)",
    }
    message = report.message()
    assert message.startswith("schema check:") and "no breaking change" in message
    assert "2 dangerous changes" in message
    assert (
        "- `VALUE_ADDED_TO_ENUM BadgeLevel.MASTER`: Enum value BadgeLevel.MASTER was added."
        in message
    )
    # Recording them is allowed, and then they still pass.
    assert run(changed, changelog(*(c.key for c in report.dangerous))).ok


def test_a_slicing_argument_added_to_an_existing_argument_is_breaking() -> None:
    changed = edit(
        RELEASED,
        '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])',
        '): BadgeConnection! @listSize(slicingArguments: ["first", "after"], sizedFields: ["edges", "nodes"])',
    )
    assert [(c.key, c.level) for c in schema_changes(RELEASED, changed)] == [
        ("SLICING_ARGUMENT_ADDED Query.badges(after:)", "breaking")
    ]


def test_a_recorded_change_the_schema_does_not_have_fails() -> None:
    report = run(RELEASED, changelog("FIELD_REMOVED Badge.level"))
    assert not report.ok
    assert report.stale == ["FIELD_REMOVED Badge.level"]
    assert "does not have" in report.message() and "`FIELD_REMOVED Badge.level`" in report.message()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (CHANGELOG.format(unreleased="## Next\n\n"), "'## Next'"),
        (CHANGELOG.format(unreleased="## 1.1.0\n\n"), "'## 1.1.0'"),
        ("# Changelog\n\n## Unreleased\n", "no release"),
        (changelog() + "\n## Unreleased\n", "must be the first section"),
        (changelog() + "\n## 1.1.0 — 2026-11-30\n", "newest first"),
        (
            CHANGELOG.format(unreleased="## Unreleased\n\n- `FIELD_GONE Badge.level`\n\n"),
            "FIELD_GONE",
        ),
        (CHANGELOG.format(unreleased="").replace("2026-11-29", "2026-11-31"), "not a date"),
    ],
)
def test_a_malformed_changelog_fails_with_its_line(text: str, problem: str) -> None:
    with pytest.raises(ChangelogError, match=r"line|no release") as raised:
        parse_changelog(text)
    assert problem in str(raised.value)
    report = run(RELEASED, text)
    assert not report.ok and problem in report.message()


def test_every_release_needs_its_sdl_and_every_sdl_its_release() -> None:
    two = CHANGELOG.format(unreleased="## 1.1.0 — 2026-12-01\n\n")
    missing = run(RELEASED, two)
    assert "release 1.1.0 has no SDL: schema/releases/1.1.0.graphql" in missing.errors
    orphan = run(RELEASED, changelog(), {"1.0.0": RELEASED, "0.9.0": RELEASED})
    assert "schema/releases/0.9.0.graphql is not a release in the changelog" in orphan.errors


def test_each_release_records_its_breaking_changes_since_the_one_before() -> None:
    removed = edit(RELEASED, *BREAKING["a removed field"][:2])
    releases = {"1.0.0": RELEASED, "2.0.0": removed}
    unrecorded = CHANGELOG.format(unreleased="## 2.0.0 — 2026-12-01\n\nLevels are gone.\n\n")
    report = run(removed, unrecorded, releases)
    assert report.errors == [
        "release 2.0.0 leaves out a breaking change since 1.0.0: `FIELD_REMOVED Badge.level`"
    ]
    recorded = CHANGELOG.format(
        unreleased="## 2.0.0 — 2026-12-01\n\n- `FIELD_REMOVED Badge.level`: gone.\n\n"
    )
    report = run(removed, recorded, releases)
    assert report.ok, report.message()
    assert report.baseline == "2.0.0" and report.changes == []


def test_release_turns_unreleased_into_a_release_and_keeps_its_sdl(tmp_path: Path) -> None:
    (tmp_path / "schema" / "releases").mkdir(parents=True)
    shutil.copy(ROOT / "schema" / "releases" / "1.0.0.graphql", tmp_path / "schema" / "releases")
    changed = edit(RELEASED, *BREAKING["a removed field"][:2])
    (tmp_path / "schema" / "CHANGELOG.md").write_text(changelog("FIELD_REMOVED Badge.level"))
    with pytest.raises(ChangelogError, match=r"release them as 2\.0\.0"):
        release("1.1.0", datetime.date(2026, 12, 1), tmp_path, changed)
    assert release("2.0.0", datetime.date(2026, 12, 1), tmp_path, changed) == (
        "released 2.0.0: schema/releases/2.0.0.graphql"
    )
    assert (tmp_path / "schema" / "releases" / "2.0.0.graphql").read_text() == changed
    text = (tmp_path / "schema" / "CHANGELOG.md").read_text()
    assert "## 2.0.0 — 2026-12-01\n\n- `FIELD_REMOVED Badge.level`: why." in text
    assert "Unreleased" not in text
    report = check_repository(tmp_path, changed)
    assert report.ok and report.baseline == "2.0.0" and report.changes == []
    with pytest.raises(ChangelogError, match=r"nothing changed since 2\.0\.0"):
        release("2.0.1", datetime.date(2026, 12, 2), tmp_path, changed)


def test_the_cli_exits_1_with_what_to_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schema" / "releases").mkdir(parents=True)
    (tmp_path / "schema" / "releases" / "1.0.0.graphql").write_text(RELEASED)
    (tmp_path / "schema" / "CHANGELOG.md").write_text(changelog())
    sdl = tmp_path / "changed.graphql"
    sdl.write_text(edit(RELEASED, *BREAKING["a removed field"][:2]))
    assert main(["--root", str(tmp_path), "--sdl", str(sdl)]) == 1
    err = capsys.readouterr().err
    assert "- `FIELD_REMOVED Badge.level`: Field Badge.level was removed." in err
    assert (
        main(["--root", str(tmp_path), "--sdl", str(tmp_path / "schema/releases/1.0.0.graphql")])
        == 0
    )
    assert "no breaking change" in capsys.readouterr().out


# Every graphql-core change type gets a schema coordinate, so it can be recorded.
OLD = """
directive @gone on FIELD_DEFINITION
directive @d(a: Int, b: Int = 1, c: Int) repeatable on FIELD_DEFINITION | OBJECT
interface Node { id: ID! }
interface Named { name: String }
interface Extra { id: ID! }
type A implements Node & Named { id: ID! name: String f(x: Int, y: Int = 1, z: Int): Int g: Int }
type B { id: ID }
type C { id: ID }
union U = A | B
enum E { ONE TWO }
input I { p: Int q: Int = 1 r: Int }
type Gone { id: ID }
scalar Kind
type Query { a: A u: U e: E i(in: I): Int gone: Gone k: Kind }
"""
NEW = """
directive @d(b: Int = 2, c: String, n: Int!) on FIELD_DEFINITION
interface Node { id: ID! }
interface Named { name: String }
interface Extra { id: ID! }
type A implements Node & Extra { id: ID! f(x: String, y: Int = 2, w: Int!, v: Int): Int g: String }
type B { id: ID }
type C { id: ID }
union U = A | C
enum E { ONE THREE }
input I { p: String q: Int = 2 s: Int! t: Int }
enum Kind { X }
type Query { a: A u: U e: E i(in: I): Int k: Kind }
"""


def test_every_graphql_core_change_type_has_a_coordinate() -> None:
    changes = schema_changes(OLD, NEW)
    assert {(c.key, c.level) for c in changes} == {
        ("TYPE_REMOVED Gone", "breaking"),
        ("TYPE_CHANGED_KIND Kind", "breaking"),
        ("FIELD_REMOVED A.name", "breaking"),
        ("FIELD_REMOVED Query.gone", "breaking"),
        ("FIELD_REMOVED I.r", "breaking"),
        ("FIELD_CHANGED_KIND A.g", "breaking"),
        ("FIELD_CHANGED_KIND I.p", "breaking"),
        ("ARG_REMOVED A.f(z:)", "breaking"),
        ("ARG_CHANGED_KIND A.f(x:)", "breaking"),
        ("REQUIRED_ARG_ADDED A.f(w:)", "breaking"),
        ("IMPLEMENTED_INTERFACE_REMOVED A.Named", "breaking"),
        ("TYPE_REMOVED_FROM_UNION U.B", "breaking"),
        ("VALUE_REMOVED_FROM_ENUM E.TWO", "breaking"),
        ("REQUIRED_INPUT_FIELD_ADDED I.s", "breaking"),
        ("DIRECTIVE_REMOVED @gone", "breaking"),
        ("DIRECTIVE_ARG_REMOVED @d(a:)", "breaking"),
        ("REQUIRED_DIRECTIVE_ARG_ADDED @d(n:)", "breaking"),
        ("ARG_CHANGED_KIND @d(c:)", "breaking"),
        ("DIRECTIVE_REPEATABLE_REMOVED @d", "breaking"),
        ("DIRECTIVE_LOCATION_REMOVED @d.OBJECT", "breaking"),
        ("ARG_DEFAULT_VALUE_CHANGE A.f(y:)", "dangerous"),
        ("ARG_DEFAULT_VALUE_CHANGE @d(b:)", "dangerous"),
        ("OPTIONAL_ARG_ADDED A.f(v:)", "dangerous"),
        ("IMPLEMENTED_INTERFACE_ADDED A.Extra", "dangerous"),
        ("TYPE_ADDED_TO_UNION U.C", "dangerous"),
        ("VALUE_ADDED_TO_ENUM E.THREE", "dangerous"),
        ("OPTIONAL_INPUT_FIELD_ADDED I.t", "dangerous"),
        ("INPUT_FIELD_DEFAULT_VALUE_CHANGE I.q", "dangerous"),
    }
    # graphql-core's every breaking and dangerous type is covered here.
    assert {c.code for c in changes} == {
        t.name for t in (*BreakingChangeType, *DangerousChangeType)
    }
    assert all(isinstance(change, Change) for change in changes)


def test_an_sdl_that_does_not_build_is_an_error_not_a_traceback() -> None:
    report = run("type Query {", changelog(), {"1.0.0": "type Query { a: Int }"})
    assert not report.ok
    assert report.errors[0].startswith("the current schema does not build: Syntax Error")
    broken = run(RELEASED, changelog(), {"1.0.0": "type Query { a: Nope }"})
    assert broken.errors[0].startswith("schema/releases/1.0.0.graphql does not build:")


def test_a_connection_losing_or_gaining_its_list_size_is_seen() -> None:
    sized = '): BadgeConnection! @listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])'
    plain = edit(RELEASED, sized, "): BadgeConnection!")
    assert {(c.key, c.level) for c in schema_changes(RELEASED, plain)} == {
        ("SLICING_ARGUMENT_REMOVED Query.badges(first:)", "breaking"),
        ("SIZED_FIELD_REMOVED Query.badges.edges", "breaking"),
        ("SIZED_FIELD_REMOVED Query.badges.nodes", "breaking"),
    }
    # The other way: `first` existed, so operations passing it are priced by it now.
    assert {(c.key, c.level) for c in schema_changes(plain, RELEASED)} == {
        ("SLICING_ARGUMENT_ADDED Query.badges(first:)", "breaking"),
        ("SIZED_FIELD_ADDED Query.badges.edges", "dangerous"),
        ("SIZED_FIELD_ADDED Query.badges.nodes", "dangerous"),
    }
