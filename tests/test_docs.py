"""Citations of the reference notes (``docs/reference/<file>.md#<anchor>``) point at headings
that exist, so a reader who follows one lands on the right section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/reference/([a-z0-9_]+\.md)#([a-z0-9-]+)")
SOURCES = [
    p
    for pattern in ("tsfm/**/*.py", "runners/*.py", "conf/**/*.yaml", "tests/**/*.py", "*.md")
    for p in REPO.glob(pattern)
    if p.name != "test_docs.py"
]


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)
    return {anchor(h) for h in headings}


def citations() -> list[tuple[str, str, str]]:
    found = []
    for path in SOURCES:
        for name, target in CITATION.findall(path.read_text()):
            found.append((str(path.relative_to(REPO)), name, target))
    return sorted(set(found))


def test_the_anchor_rule_matches_github():
    assert anchor("Hyperparameters (Table 14)") == "hyperparameters-table-14"
    assert anchor("M4 short-term protocol") == "m4-short-term-protocol"


@pytest.mark.parametrize(("source", "name", "target"), citations())
def test_every_citation_points_at_a_heading(source, name, target):
    path = REPO / "docs" / "reference" / name
    assert path.is_file(), f"{source} cites {name}, which docs/reference/ does not have"
    assert target in anchors(path), f"{source} cites {name}#{target}, which is not a heading"
