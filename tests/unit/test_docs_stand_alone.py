"""The README and docs/ stand on their own for someone who cloned the repository: they never send
the reader to the team's private folder or its spec by section number, and every relative link
(to a file, optionally with a #heading) points at something that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FORBIDDEN = ("../shared", "SPEC §")

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats
    numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its words
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_documents_are_found():
    names = {_name(path) for path in DOCS}
    assert "README.md" in names
    assert "docs/performance.md" in names


@pytest.mark.parametrize("path", DOCS, ids=_name)
def test_no_reference_to_the_teams_private_folder_or_spec_sections(path):
    found = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(word in line for word in FORBIDDEN)
    ]
    assert not found, (
        f"{_name(path)} refers the reader to material they do not have "
        f"({' or '.join(FORBIDDEN)}); say what is meant instead:\n" + "\n".join(found)
    )


@pytest.mark.parametrize("path", DOCS, ids=_name)
def test_every_relative_link_points_at_something_that_exists(path):
    broken = []
    for target in _links(path.read_text(encoding="utf-8")):
        if SCHEME.match(target) or target.startswith("//"):
            continue  # a web address, mailto: and the like
        file_part, _, anchor = target.partition("#")
        file_part = unquote(file_part.split("?", 1)[0])
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {file_part}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {file_part or _name(path)}")
    assert not broken, f"{_name(path)} has broken links:\n" + "\n".join(broken)


def test_the_link_finder_sees_links_but_not_code():
    text = (
        'See [the rules](docs/rules.md#r1) and ![a picture](docs/a.png "title").\n'
        "`[not a link](nowhere.md)`\n"
        "```\n[also not](nowhere.md)\n```\n"
        "[ref]: docs/sync.md\n"
        "A [web page](https://example.org/x.md).\n"
    )
    assert _links(text) == [
        "docs/rules.md#r1",
        "docs/a.png",
        "https://example.org/x.md",
        "docs/sync.md",
    ]
