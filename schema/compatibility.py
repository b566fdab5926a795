"""The partner schema against its last release: a breaking change must be in the changelog.

``schema/CHANGELOG.md`` lists the partner schema's releases, newest first, each as a
``## <version> — <YYYY-MM-DD>`` heading, with an ``## Unreleased`` section on top for what
is not released yet; ``schema/releases/<version>.graphql`` keeps each release's SDL (in the
repository, not recovered from git: CI clones may be shallow). The check compares the
schema the gateway serves with the last release's SDL:

- graphql-core's schema diff (``find_schema_changes``: its breaking, dangerous and safe
  changes), plus
- the cost directives (:func:`cost_changes`): a raised ``@cost`` weight or list size, a
  removed slicing argument, ... are breaking for partners who budget by cost; a lowered
  one is not.

Every breaking change must be recorded under ``## Unreleased`` as a list item naming its
type and schema coordinate in backticks, with a sentence for partners::

    - `FIELD_REMOVED Badge.level`: read `Badge.tier` instead.
    - `COST_RAISED Mutation.issueCredential`: 10 points to 20.

Dangerous changes are reported, and may be recorded, but do not fail the check. Any
recorded ``TYPE coordinate`` must name a change the diff finds (a stale entry would tell
partners something false). Released sections are checked the same way, each against the
release before it. Run it with ``make schema-check`` (``make test`` runs it too, in
tests/test_schema_compatibility.py)::

    python -m schema.compatibility                  # exit 1, and what to record, on failure
    python -m schema.compatibility release 1.1.0    # Unreleased becomes 1.1.0, SDL kept

Coordinates are GraphQL schema coordinates (``Type``, ``Type.field``,
``Type.field(arg:)``, ``Enum.VALUE``, ``@directive``, ``@directive(arg:)``); a union member
is ``Union.Member``, an implemented interface ``Type.Interface``, a directive location
``@directive.LOCATION``, a child list a connection sizes ``Type.field.child``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    SafeChangeType,
    build_schema,
    find_schema_changes,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.utilities import get_default_value_ast

from schema.partner_schema import build_schema as build_partner_schema
from schema.sdl import partner_sdl

__all__ = [
    "COST_CHANGE_LEVELS",
    "DEFAULT_LIST_SIZE",
    "DEFAULT_MUTATION_WEIGHT",
    "Change",
    "Changelog",
    "ChangelogError",
    "Paths",
    "Release",
    "Report",
    "check",
    "check_repository",
    "cost_changes",
    "main",
    "parse_changelog",
    "release",
    "schema_changes",
]

Level = Literal["breaking", "dangerous", "safe"]

# The gateway's pricing defaults (metering/cost.py, the README's cost table).
DEFAULT_LIST_SIZE = 10
DEFAULT_MUTATION_WEIGHT = 10

# The cost directives' own change types, and how much each matters to a partner.
COST_CHANGE_LEVELS: dict[str, Level] = {
    "COST_RAISED": "breaking",  # a weight went up: the same operation costs more
    "LIST_SIZE_RAISED": "breaking",  # a list's size without a slicing argument went up
    "SLICING_ARGUMENT_REMOVED": "breaking",  # the argument no longer bounds the size
    "SLICING_ARGUMENT_ADDED": "dangerous",  # breaking when the argument existed before
    "SLICING_ARGUMENT_REQUIRED": "breaking",  # requireOneSlicingArgument became true
    "SIZED_FIELD_REMOVED": "breaking",  # a child list is no longer sized by the argument
    "SIZED_FIELD_ADDED": "dangerous",
    "COST_LOWERED": "safe",
    "LIST_SIZE_LOWERED": "safe",
    "SLICING_ARGUMENT_OPTIONAL": "safe",
}

_LEVELS: dict[str, Level] = {
    **{t.name: "breaking" for t in BreakingChangeType},
    **{t.name: "dangerous" for t in DangerousChangeType},
    **{t.name: "safe" for t in SafeChangeType if t.name not in DangerousChangeType.__members__},
    **COST_CHANGE_LEVELS,
}

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two schemas, as a partner would feel it."""

    code: str  # a graphql-core change type's name, or one of COST_CHANGE_LEVELS
    coordinate: str
    description: str
    level: Level

    @property
    def key(self) -> str:
        """How the changelog records it: ``FIELD_REMOVED Badge.level``."""
        return f"{self.code} {self.coordinate}"

    def entry(self) -> str:
        """The changelog line to add for it."""
        return f"- `{self.key}`: {self.description}"


# ---------------------------------------------------------------------------------------
# graphql-core's changes, with the schema coordinate each one is about.

_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_COORDINATE = rf"@?{_NAME}(?:\.{_NAME})?(?:\({_NAME}:?\))?"
_SPECIAL: dict[str, tuple[str, str]] = {
    # change type: (pattern of its description, how the coordinate is made from the groups)
    "TYPE_REMOVED_FROM_UNION": (
        rf"^(?P<m>{_NAME}) was removed from union type (?P<u>{_NAME})\.",
        "{u}.{m}",
    ),
    "TYPE_ADDED_TO_UNION": (
        rf"^(?P<m>{_NAME}) was added to union type (?P<u>{_NAME})\.",
        "{u}.{m}",
    ),
    "IMPLEMENTED_INTERFACE_REMOVED": (
        rf"^(?P<t>{_NAME}) no longer implements interface (?P<i>{_NAME})\.",
        "{t}.{i}",
    ),
    "IMPLEMENTED_INTERFACE_ADDED": (
        rf"^(?P<i>{_NAME}) added to interfaces implemented by (?P<t>{_NAME})\.",
        "{t}.{i}",
    ),
    "DIRECTIVE_LOCATION_REMOVED": (
        rf"^(?P<l>{_NAME}) was removed from (?P<d>@{_NAME})\.",
        "{d}.{l}",
    ),
    "DIRECTIVE_LOCATION_ADDED": (rf"^(?P<l>{_NAME}) was added to (?P<d>@{_NAME})\.", "{d}.{l}"),
    "DIRECTIVE_REPEATABLE_REMOVED": (
        rf"^Repeatable flag was removed from (?P<d>@{_NAME})\.",
        "{d}",
    ),
    "DIRECTIVE_REPEATABLE_ADDED": (rf"^Repeatable flag was added to (?P<d>@{_NAME})\.", "{d}"),
    "DESCRIPTION_CHANGED": (
        rf"^Description of (?:enum value |field |argument |input-field )?(?P<c>{_COORDINATE}) ",
        "{c}",
    ),
}
_GENERIC = re.compile(
    r"^(?:Standard scalar |Field |Argument |Enum value |Directive |A required field "
    r"|A required argument |An optional field |An optional argument )?"
    rf"(?P<c>{_COORDINATE})"
)


def _coordinate(change_type: Enum, description: str) -> str:
    special = _SPECIAL.get(change_type.name)
    match = re.match(special[0], description) if special else _GENERIC.match(description)
    if match is None:
        return description.rstrip(".")  # a wording this module does not know yet
    coordinate = special[1].format(**match.groupdict()) if special else match["c"]
    # "Description of argument T.f(a)" spells the argument without its colon.
    return re.sub(rf"\(({_NAME})\)$", r"(\1:)", coordinate)


def _graphql_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    return [
        Change(
            change.type.name,
            _coordinate(change.type, change.description),
            change.description,
            _LEVELS[change.type.name],
        )
        for change in find_schema_changes(old, new)
    ]


# ---------------------------------------------------------------------------------------
# The cost directives: @cost(weight:) and @listSize(assumedSize:, slicingArguments:,
# sizedFields:, requireOneSlicingArgument:), priced as metering/cost.py prices them.


def _directive(definition: Any, name: str) -> dict[str, Any] | None:
    node = getattr(definition, "ast_node", None)
    for directive in getattr(node, "directives", None) or ():
        if directive.name.value == name:
            return {
                argument.name.value: value_from_ast_untyped(argument.value)
                for argument in directive.arguments
            }
    return None


def _weight(definition: Any) -> int | None:
    arguments = _directive(definition, "cost")
    weight = arguments.get("weight") if arguments else None
    return weight if isinstance(weight, int) else None


@dataclass(frozen=True, slots=True)
class _Weight:
    value: int
    specific: bool  # set on this coordinate (or a mutation's default), not inherited


@dataclass(frozen=True, slots=True)
class _Sizing:
    unsliced: int | None  # the size when no slicing argument is passed; None: not a list
    slicing: tuple[str, ...]
    sized_fields: tuple[str, ...]
    require_one: bool
    arguments: frozenset[str]


def _type_weight(type_: GraphQLNamedType) -> _Weight:
    explicit = _weight(type_)
    if explicit is not None:
        return _Weight(explicit, True)
    return _Weight(1 if is_composite_type(type_) else 0, False)


def _weights(schema: GraphQLSchema) -> dict[str, _Weight]:
    """The weight of every coordinate the cost specification weighs."""
    weights: dict[str, _Weight] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        weights[name] = _type_weight(type_)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field_ in type_.fields.items():
                explicit = _weight(field_)
                if explicit is not None:
                    weight = _Weight(explicit, True)
                elif type_ is schema.mutation_type:
                    weight = _Weight(DEFAULT_MUTATION_WEIGHT, True)
                else:
                    weight = _Weight(_type_weight(get_named_type(field_.type)).value, False)
                weights[f"{name}.{field_name}"] = weight
                for arg_name, arg in field_.args.items():
                    weights[f"{name}.{field_name}({arg_name}:)"] = _explicit_or_zero(arg)
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                weights[f"{name}.{field_name}"] = _explicit_or_zero(input_field)
    return weights


def _explicit_or_zero(definition: Any) -> _Weight:
    explicit = _weight(definition)
    return _Weight(explicit or 0, explicit is not None)


def _unsliced_size(field_: GraphQLField, slicing: Sequence[str], assumed: Any) -> int:
    for name in slicing:
        argument: GraphQLArgument | None = field_.args.get(name)
        literal = get_default_value_ast(argument) if argument is not None else None
        default = value_from_ast_untyped(literal) if literal is not None else None
        if isinstance(default, int) and not isinstance(default, bool):
            return max(default, 0)
        if isinstance(default, list):
            return len(default)
    return assumed if isinstance(assumed, int) else DEFAULT_LIST_SIZE


def _sizings(schema: GraphQLSchema) -> dict[str, _Sizing]:
    """How every field is sized: a list, or a field with ``@listSize`` (a connection)."""
    sizings: dict[str, _Sizing] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field_ in type_.fields.items():
            directive = _directive(field_, "listSize")
            sized = directive is not None or is_list_type(get_nullable_type(field_.type))
            list_size = directive or {}
            slicing = tuple(list_size.get("slicingArguments") or ())
            sizings[f"{name}.{field_name}"] = _Sizing(
                unsliced=(
                    _unsliced_size(field_, slicing, list_size.get("assumedSize")) if sized else None
                ),
                slicing=slicing,
                sized_fields=tuple(list_size.get("sizedFields") or ()),
                require_one=list_size.get("requireOneSlicingArgument", True) is not False,
                arguments=frozenset(field_.args),
            )
    return sizings


def _raised_or_lowered(
    coordinate: str, what: str, old: int, new: int, raised: str, lowered: str
) -> list[Change]:
    if new == old:
        return []
    code = raised if new > old else lowered
    return [
        Change(code, coordinate, f"{what} {old} → {new}.", COST_CHANGE_LEVELS[code]),
    ]


def cost_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    """What the cost directives change for an operation's price; added and removed
    coordinates are graphql-core's business."""
    changes: list[Change] = []
    old_weights, new_weights = _weights(old), _weights(new)
    for coordinate, before in old_weights.items():
        after = new_weights.get(coordinate)
        # A field that inherits its type's weight changes with the type, reported there.
        if after is None or not (before.specific or after.specific):
            continue
        changes += _raised_or_lowered(
            coordinate, "@cost weight", before.value, after.value, "COST_RAISED", "COST_LOWERED"
        )
    old_sizings, new_sizings = _sizings(old), _sizings(new)
    for coordinate, was in old_sizings.items():
        now = new_sizings.get(coordinate)
        if now is None:
            continue  # a removed field
        if was.unsliced is not None and now.unsliced is not None:
            changes += _raised_or_lowered(
                coordinate,
                "list size without a slicing argument",
                was.unsliced,
                now.unsliced,
                "LIST_SIZE_RAISED",
                "LIST_SIZE_LOWERED",
            )
        for argument in was.slicing:
            if argument not in now.slicing:
                changes.append(
                    Change(
                        "SLICING_ARGUMENT_REMOVED",
                        f"{coordinate}({argument}:)",
                        f"{argument} no longer sets the list's size for pricing.",
                        "breaking",
                    )
                )
        for argument in now.slicing:
            if argument not in was.slicing:
                existed = argument in was.arguments
                changes.append(
                    Change(
                        "SLICING_ARGUMENT_ADDED",
                        f"{coordinate}({argument}:)",
                        f"{argument} now sets the list's size for pricing"
                        + (
                            ", and operations already passing it are priced by it."
                            if existed
                            else "."
                        ),
                        "breaking" if existed else "dangerous",
                    )
                )
        for child in was.sized_fields:
            if child not in now.sized_fields:
                changes.append(
                    Change(
                        "SIZED_FIELD_REMOVED",
                        f"{coordinate}.{child}",
                        f"{child} is no longer sized by the slicing argument.",
                        "breaking",
                    )
                )
        for child in now.sized_fields:
            if child not in was.sized_fields:
                changes.append(
                    Change(
                        "SIZED_FIELD_ADDED",
                        f"{coordinate}.{child}",
                        f"{child} is now sized by the slicing argument.",
                        "dangerous",
                    )
                )
        if now.slicing and was.slicing and now.require_one != was.require_one:
            code = "SLICING_ARGUMENT_REQUIRED" if now.require_one else "SLICING_ARGUMENT_OPTIONAL"
            changes.append(
                Change(
                    code,
                    coordinate,
                    "requireOneSlicingArgument " + ("true." if now.require_one else "false."),
                    COST_CHANGE_LEVELS[code],
                )
            )
    return changes


def schema_changes(old_sdl: str, new_sdl: str) -> list[Change]:
    """Every change from one SDL to another: graphql-core's, then the cost directives'."""
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    return _graphql_changes(old, new) + cost_changes(old, new)


# ---------------------------------------------------------------------------------------
# The changelog.

_HEADING = re.compile(r"^##(?!#)\s*(?P<title>.*?)\s*$")
_RELEASE = re.compile(
    r"^(?P<version>\d+\.\d+\.\d+)\s*(?:[\u2014\u2013-]|\()\s*(?P<date>\d{4}-\d{2}-\d{2})\)?$"
)
_ENTRY = re.compile(r"`(?P<code>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+) (?P<coordinate>[^`]+)`")


class ChangelogError(ValueError):
    """The changelog does not follow its format."""


@dataclass(slots=True)
class Release:
    """One section of the changelog: a release, or (``version`` None) Unreleased."""

    version: str | None
    date: datetime.date | None
    line: int
    entries: list[str] = field(default_factory=list)  # "CODE coordinate", as recorded

    @property
    def title(self) -> str:
        return self.version or "Unreleased"


@dataclass(slots=True)
class Changelog:
    unreleased: Release | None
    releases: list[Release]  # newest first


def _version(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def parse_changelog(text: str) -> Changelog:
    """The sections and recorded changes of ``schema/CHANGELOG.md``."""
    sections: list[Release] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        heading = _HEADING.match(line)
        if heading:
            title = heading["title"]
            release = _RELEASE.match(title)
            if title.lower() == "unreleased":
                if sections:
                    problems.append(f"line {number}: ## Unreleased must be the first section")
                sections.append(Release(None, None, number))
            elif release:
                try:
                    date = datetime.date.fromisoformat(release["date"])
                except ValueError:
                    problems.append(f"line {number}: {release['date']} is not a date")
                    date = None
                sections.append(Release(release["version"], date, number))
            else:
                problems.append(
                    f"line {number}: a section is '## Unreleased' or "
                    f"'## <major.minor.patch> — <YYYY-MM-DD>', not {line.strip()!r}"
                )
            continue
        if not sections:
            continue  # the introduction: examples there record nothing
        for entry in _ENTRY.finditer(line):
            if entry["code"] not in _LEVELS:
                problems.append(
                    f"line {number}: {entry['code']} is not a change type "
                    "(graphql-core's BreakingChangeType, DangerousChangeType, SafeChangeType, "
                    f"or {', '.join(COST_CHANGE_LEVELS)})"
                )
                continue
            sections[-1].entries.append(f"{entry['code']} {entry['coordinate'].strip()}")
    unreleased = sections[0] if sections and sections[0].version is None else None
    releases = [s for s in sections if s.version is not None]
    for newer, older in itertools.pairwise(releases):
        assert newer.version is not None
        assert older.version is not None
        if _version(newer.version) <= _version(older.version):
            problems.append(
                f"line {older.line}: releases go newest first: {older.version} "
                f"is listed below {newer.version}"
            )
        if newer.date and older.date and newer.date < older.date:
            problems.append(f"line {newer.line}: {newer.version} is dated before {older.version}")
    if not releases:
        problems.append("no release: the first one is '## 1.0.0 — <YYYY-MM-DD>'")
    if problems:
        raise ChangelogError("\n".join(problems))
    return Changelog(unreleased, releases)


# ---------------------------------------------------------------------------------------
# The check.


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the changelog and the released SDLs live (``Paths.under(root)``)."""

    root: Path
    changelog: Path
    releases: Path

    @classmethod
    def under(cls, root: Path) -> Paths:
        return cls(root, root / "schema" / "CHANGELOG.md", root / "schema" / "releases")

    def show(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def release_sdls(self) -> dict[str, str]:
        return {p.stem: p.read_text() for p in sorted(self.releases.glob("*.graphql"))}


@dataclass(slots=True)
class Report:
    """What the check found; ``ok`` when nothing fails it."""

    paths: Paths
    baseline: str | None = None  # the release compared against
    changes: list[Change] = field(default_factory=list)  # since the baseline
    unrecorded: list[Change] = field(default_factory=list)  # breaking, not under Unreleased
    stale: list[str] = field(default_factory=list)  # recorded, but no such change
    errors: list[str] = field(default_factory=list)  # the changelog, the releases, history

    @property
    def ok(self) -> bool:
        return not (self.errors or self.unrecorded or self.stale)

    def of_level(self, level: Level) -> list[Change]:
        return [change for change in self.changes if change.level == level]

    @property
    def breaking(self) -> list[Change]:
        return self.of_level("breaking")

    @property
    def dangerous(self) -> list[Change]:
        return self.of_level("dangerous")

    def message(self) -> str:
        changelog = self.paths.show(self.paths.changelog)
        baseline = (
            f"release {self.baseline} ({self.paths.show(self.paths.releases)}/"
            f"{self.baseline}.graphql)"
            if self.baseline
            else "its last release"
        )
        out: list[str] = []
        if self.errors:
            out.append(f"{changelog} and its releases have problems:")
            out += [f"  {error}" for error in self.errors]
        if self.unrecorded:
            count = len(self.unrecorded)
            out += [
                f"The partner schema has {count} breaking change{'s' if count > 1 else ''} "
                f"since {baseline} that {changelog} does not record.",
                "Partners' operations or cost budgets may break. If the change is intended, "
                f"add these lines under '## Unreleased' at the top of {changelog} (above the "
                "first release), each with a sentence telling partners what to do instead:",
                "",
                "## Unreleased",
                "",
                *(change.entry() for change in self.unrecorded),
                "",
                "If it is not intended, undo it: compare schema.graphql with "
                f"{self.paths.show(self.paths.releases)}/{self.baseline}.graphql.",
            ]
        if self.stale:
            out.append(
                f"{changelog} records under '## Unreleased' changes the schema does not have "
                f"since {baseline} (remove them, or make the change):"
            )
            out += [f"  `{entry}`" for entry in self.stale]
        dangerous = self.dangerous
        if dangerous:
            out.append(
                f"{len(dangerous)} dangerous change{'s' if len(dangerous) > 1 else ''} since "
                f"{baseline} (allowed; worth a line under '## Unreleased' for partners):"
            )
            out += [f"  {change.entry()}" for change in dangerous]
        if self.ok:
            breaking = len(self.breaking)
            out.insert(
                0,
                f"schema check: the partner schema against {baseline}: "
                + (
                    f"{breaking} breaking change{'s' if breaking > 1 else ''}, "
                    f"all recorded in {changelog}."
                    if breaking
                    else "no breaking change."
                ),
            )
        return "\n".join(out)


def _recorded(changes: Iterable[Change], entries: Sequence[str]) -> tuple[list[Change], list[str]]:
    """The breaking changes ``entries`` leave out, and the entries naming no change."""
    found = {change.key for change in changes}
    recorded = set(entries)
    unrecorded = [c for c in changes if c.level == "breaking" and c.key not in recorded]
    stale = [entry for entry in dict.fromkeys(entries) if entry not in found]
    return unrecorded, stale


def check(
    current_sdl: str, changelog_text: str, release_sdls: Mapping[str, str], paths: Paths
) -> Report:
    """The current SDL against the changelog and the released SDLs (by version)."""
    report = Report(paths)
    try:
        changelog = parse_changelog(changelog_text)
    except ChangelogError as error:
        report.errors += str(error).splitlines()
        return report
    releases_dir = paths.show(paths.releases)
    for section in changelog.releases:
        if section.version not in release_sdls:
            report.errors.append(
                f"release {section.version} has no SDL: {releases_dir}/{section.version}.graphql"
            )
    listed = {section.version for section in changelog.releases}
    report.errors += [
        f"{releases_dir}/{version}.graphql is not a release in the changelog"
        for version in release_sdls
        if version not in listed
    ]
    for version, sdl in release_sdls.items():
        try:
            build_schema(sdl)
        except (GraphQLError, TypeError) as error:
            report.errors.append(f"{releases_dir}/{version}.graphql does not build: {error}")
    try:
        build_schema(current_sdl)
    except (GraphQLError, TypeError) as error:
        report.errors.append(f"the current schema does not build: {error}")
    if report.errors:
        return report
    # Each release against the one before it: its section records its breaking changes.
    for newer, older in itertools.pairwise(changelog.releases):
        assert newer.version is not None
        assert older.version is not None
        changes = schema_changes(release_sdls[older.version], release_sdls[newer.version])
        unrecorded, stale = _recorded(changes, newer.entries)
        report.errors += [
            f"release {newer.version} leaves out a breaking change since {older.version}: "
            f"`{change.key}`"
            for change in unrecorded
        ]
        report.errors += [
            f"release {newer.version} records `{entry}`, which is no change since {older.version}"
            for entry in stale
        ]
    baseline = changelog.releases[0]
    assert baseline.version is not None
    report.baseline = baseline.version
    report.changes = schema_changes(release_sdls[baseline.version], current_sdl)
    entries = changelog.unreleased.entries if changelog.unreleased else []
    report.unrecorded, report.stale = _recorded(report.changes, entries)
    return report


def current_sdl() -> str:
    """The SDL the gateway serves (schema.graphql is checked to be the same)."""
    return partner_sdl(build_partner_schema())


def check_repository(root: Path = ROOT, sdl: str | None = None) -> Report:
    paths = Paths.under(root)
    return check(
        current_sdl() if sdl is None else sdl,
        paths.changelog.read_text(),
        paths.release_sdls(),
        paths,
    )


def release(version: str, date: datetime.date, root: Path = ROOT, sdl: str | None = None) -> str:
    """Make the Unreleased section release ``version``, and keep its SDL. Refused when
    the check fails, nothing changed, or a breaking change comes without a new major."""
    report = check_repository(root, sdl)
    if not report.ok:
        raise ChangelogError(report.message())
    assert report.baseline is not None
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ChangelogError(f"{version} is not a version: <major>.<minor>.<patch>")
    if _version(version) <= _version(report.baseline):
        raise ChangelogError(f"{version} is not after {report.baseline}")
    if not report.changes:
        raise ChangelogError(f"nothing changed since {report.baseline}")
    if report.breaking and _version(version)[0] <= _version(report.baseline)[0]:
        raise ChangelogError(
            f"{len(report.breaking)} breaking changes since {report.baseline}: "
            f"release them as {_version(report.baseline)[0] + 1}.0.0"
        )
    paths = report.paths
    heading = f"## {version} — {date.isoformat()}"
    lines = paths.changelog.read_text().splitlines(keepends=True)
    changelog = parse_changelog("".join(lines))
    if changelog.unreleased is not None:
        lines[changelog.unreleased.line - 1] = heading + "\n"
    else:
        lines.insert(changelog.releases[0].line - 1, heading + "\n\n")
    paths.changelog.write_text("".join(lines))
    (paths.releases / f"{version}.graphql").write_text(current_sdl() if sdl is None else sdl)
    return f"released {version}: {paths.show(paths.releases)}/{version}.graphql"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schema.compatibility",
        description="Check the partner schema against its last release (schema/CHANGELOG.md).",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository")
    parser.add_argument("--sdl", type=Path, help="check this SDL file, not the built schema")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("check", help="the check (the default)")
    released = commands.add_parser("release", help="release the Unreleased section")
    released.add_argument("version")
    released.add_argument("--date", type=datetime.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    sdl = args.sdl.read_text() if args.sdl else None
    if args.command == "release":
        date = args.date or datetime.datetime.now(datetime.UTC).date()
        try:
            print(release(args.version, date, args.root, sdl))
        except ChangelogError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    report = check_repository(args.root, sdl)
    print(report.message(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
