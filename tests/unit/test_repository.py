"""The repository stands on its own: what it cites, it carries.

Every text file git knows about (tracked, or new and not ignored) is read. None may point at documents that
live outside the repository, and every `docs/<name>.md §N` reference must name a section that exists as a
numbered heading (`## 3. Title`, `### 3.3 Title`) in that file. Inside a document with numbered headings, a
bare `§N` means a section of that same document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()

# Documents that exist only outside the repository (docs/decisions.md, "A repository that stands on its own"),
# as patterns: the team's sibling folder, the machine's work tree, and their notes. Written as regular expressions
# so that this file, too, names none of them; it is still the one file not searched.
OUTSIDE = (r"\.\./shared\b", r"/work/", r"gcp-facts", r"style\.md", r"DEVELOPERS\.md")
_OUTSIDE = re.compile("|".join(OUTSIDE), re.IGNORECASE)

_SECTION = r"\d+(?:\.\d+)*"
# One or more sections: `§3`, `§3, §4`, `§3 and §4`, `§9.1-9.6` or with an en dash (a range: both ends must exist).
_SECTIONS = (
    rf"§\s?{_SECTION}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+)§\s?{_SECTION}|\s*\u2013\s*§?\s?{_SECTION}|-§?{_SECTION})*"
)
# `docs/design.md §6`, `` `docs/design.md` §6 ``, with the sections possibly on the next line.
_QUALIFIED = re.compile(rf"\bdocs/(?P<doc>[\w./-]+?\.md)`?\s*(?P<sections>{_SECTIONS})")
_BARE = re.compile(_SECTIONS)
_DOC_MENTION = re.compile(r"\bdocs/[\w./-]+?\.md\b")
_HEADING = re.compile(rf"^#{{1,6}}\s+(?P<number>{_SECTION})\.?\s", re.MULTILINE)
_FENCE = re.compile(r"^(?:```|~~~).*?^(?:```|~~~)[^\n]*$", re.MULTILINE | re.DOTALL)


@cache
def _root() -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    found = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=HERE.parent, capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.skip("not a git checkout")
    return Path(found.stdout.strip())


@cache
def _text_files() -> tuple[tuple[str, str], ...]:
    """(path relative to the root, text) of every tracked or new, not ignored, file that is text."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=_root(),
        capture_output=True,
        check=True,
    )
    files = []
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        path = _root() / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            files.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return tuple(files)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _numbers(sections: str) -> list[str]:
    return re.findall(_SECTION, sections)


def headings(markdown: str) -> set[str]:
    """Section numbers of the numbered headings (`## 3. Title`, `### 3.3 Title`), outside code blocks."""
    return set(_HEADING.findall(_FENCE.sub("", markdown)))


def references(text: str, own_doc: str | None = None) -> Iterator[tuple[int, str, str]]:
    """(line, document, section) for every section reference in `text`.

    `own_doc` is the document `text` is (its name under docs/), when bare `§N` references mean its own sections.
    """
    taken: list[tuple[int, int]] = []
    for match in _QUALIFIED.finditer(text):
        taken.append(match.span())
        for number in _numbers(match["sections"]):
            yield _line(text, match.start()), match["doc"], number
    if own_doc is None:
        return
    for match in _BARE.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        for number in _numbers(match[0]):
            yield _line(text, match.start()), own_doc, number


def _numbered_docs() -> dict[str, set[str]]:
    """docs/<name>.md → its section numbers, for the documents that have numbered headings."""
    found = {}
    for name, text in _text_files():
        if name.startswith("docs/") and name.endswith(".md"):
            numbers = headings(text)
            if numbers:
                found[name.removeprefix("docs/")] = numbers
    return found


def test_nothing_points_outside_the_repository() -> None:
    problems = []
    for name, text in _text_files():
        if _root() / name == HERE:
            continue
        for match in _OUTSIDE.finditer(text):
            problems.append(
                f"{name}:{_line(text, match.start())}: refers to {match[0]!r}, which is outside the repository"
            )
    assert not problems, "\n".join(problems)


def test_every_docs_file_mentioned_exists() -> None:
    problems = []
    for name, text in _text_files():
        for match in _DOC_MENTION.finditer(text):
            if not (_root() / match[0]).is_file():
                problems.append(f"{name}:{_line(text, match.start())}: {match[0]} does not exist")
    assert not problems, "\n".join(problems)


def test_every_section_reference_has_its_heading() -> None:
    numbered = _numbered_docs()
    problems = []
    count = 0
    for name, text in _text_files():
        own = name.removeprefix("docs/") if name.removeprefix("docs/") in numbered else None
        for line, doc, number in references(text, own):
            count += 1
            if doc not in numbered:
                problems.append(f"{name}:{line}: docs/{doc} §{number}: docs/{doc} has no numbered headings")
            elif number not in numbered[doc]:
                problems.append(f"{name}:{line}: docs/{doc} §{number}: no heading numbered {number} there")
    assert not problems, "\n".join(problems)
    assert count > 0, "no section reference found: the scanner is broken"


def test_the_contract_documents_keep_their_numbering() -> None:
    numbered = _numbered_docs()
    assert numbered["design.md"] == {str(n) for n in range(1, 8)}
    apis = numbered["google-apis.md"]
    sections = {"1": 4, "2": 5, "3": 5, "4": 0, "5": 4, "6": 0, "7": 0, "8": 0, "9": 6}
    expected = set(sections) | {f"{top}.{sub}" for top, n in sections.items() for sub in range(1, n + 1)}
    assert apis == expected


def test_headings_are_read_outside_code_blocks() -> None:
    markdown = "# Title\n\n## 1. One\n\n### 1.1 Sub\n\n```\n## 2. not a heading\n```\n\n## 3. Three\n"
    assert headings(markdown) == {"1", "1.1", "3"}


def test_references_are_found_in_every_written_form() -> None:
    text = (
        "see `docs/design.md` §3, §4 and docs/google-apis.md\n§9.1\u20139.6; docs/google-apis.md §5.2.\n"
        "(docs/design.md §6 and §7) docs/naming.md has none; local §2.3 and §1"
    )
    assert list(references(text)) == [
        (1, "design.md", "3"),
        (1, "design.md", "4"),
        (1, "google-apis.md", "9.1"),
        (1, "google-apis.md", "9.6"),
        (2, "google-apis.md", "5.2"),
        (3, "design.md", "6"),
        (3, "design.md", "7"),
    ]
    assert list(references(text, "google-apis.md"))[-2:] == [(3, "google-apis.md", "2.3"), (3, "google-apis.md", "1")]


def test_outside_references_are_recognized() -> None:
    sibling = "/".join(("..", "shared"))
    text = f"see {sibling}/x and /work/main, GCP-FACTS, Style.md, DEVELOPERS.md"
    assert [match[0] for match in _OUTSIDE.finditer(text)] == [
        sibling,
        "/work/",
        "GCP-FACTS",
        "Style.md",
        "DEVELOPERS.md",
    ]
