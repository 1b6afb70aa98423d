"""The project stands on its own: every fact a shipped file cites is in docs/sources.md.

Shipped scenarios, documents and code cite facts as ``FACTS §N.M`` (the fact sheet's name
while it lived outside the repository) or ``docs/sources.md §N.M``; both must name a
section that exists in ``docs/sources.md``, and every local file a document links to must
exist in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SOURCES = ROOT / "docs" / "sources.md"

CITATION = re.compile(r"(?:FACTS(?:\.md)?|sources(?:\.md)?)`?\)?\s*§\s*(\d+(?:\.\d+)?)")
HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)

SHIPPED = sorted(
    [
        *ROOT.glob("scenarios/*.yaml"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("simulator/**/*.py"),
        ROOT / "README.md",
    ]
)


def _sections() -> set[str]:
    return set(HEADING.findall(SOURCES.read_text(encoding="utf-8")))


def test_sources_has_the_fact_sheet_sections() -> None:
    sections = _sections()
    # The fact sheet's numbering (docs/sources.md keeps it so that citations map 1:1).
    for n in ("1", "1.1", "1.2", "1.3", "1.4", "2", "3", "3.1", "3.2", "4", "4.7", "5.1"):
        assert n in sections, f"docs/sources.md lacks section {n}"
    assert {"5.3", "6", "7", "7.1", "8"} <= sections


def test_a_citation_to_a_missing_section_is_caught() -> None:
    # The check below must be able to fail: a made-up section is not among the headings.
    assert CITATION.findall("see FACTS §99.9 and docs/sources.md §4.7") == ["99.9", "4.7"]
    assert "99.9" not in _sections()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_section_exists_in_sources(path: Path) -> None:
    cited = CITATION.findall(path.read_text(encoding="utf-8"))
    missing = sorted(set(cited) - _sections())
    assert not missing, (
        f"{path.relative_to(ROOT)} cites sections not in docs/sources.md: {missing}"
    )


_LINKED_DOCS = [*ROOT.glob("docs/*.md"), ROOT / "README.md"]


@pytest.mark.parametrize("path", _LINKED_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_documents_link_only_to_files_in_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "shared/reference" not in text, f"{path.name} points outside the repository"
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"^[a-z]+://", target):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
