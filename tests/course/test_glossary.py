"""The glossary is complete for the course, and every lesson ends with a Korean summary that uses it."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

from segedu.course.glossary import GLOSSARY, Term, glossary_markdown, lookup

ROOT = Path(__file__).resolve().parents[2]
LESSON_PATHS = sorted((ROOT / "notebooks").glob("[01][0-9]_*.ipynb"))
LESSONS = [path for path in LESSON_PATHS if not path.name.startswith("00_")]
KOREAN_HEADING = "## 요약 (한국어)"
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# The terms the study note (shared/seed) builds its argument on.
SEED_KEY_TERMS = (
    "dense prediction",
    "one-hot encoding",
    "argmax",
    "downsampling",
    "upsampling",
    "encoder",
    "decoder",
    "transposed convolution",
    "skip connection",
)


@lru_cache(maxsize=None)
def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@lru_cache(maxsize=None)
def _english_text(path: Path) -> str:
    """All cell sources of a lesson except its Korean summary."""
    cells = _read(path).cells
    return "\n".join(cell.source for cell in cells if not cell.source.startswith(KOREAN_HEADING))


def _korean_summary(path: Path) -> str:
    return _read(path).cells[-1].source


def _term_pattern(english: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive; spaces and hyphens interchangeable; plural allowed."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", english)]
    return re.compile(r"(?<![A-Za-z])" + r"[\s-]".join(words) + r"(?:s|es)?(?![A-Za-z])", re.IGNORECASE)


def _terms_in(text: str) -> set[str]:
    return {term.english for term in GLOSSARY if _term_pattern(term.english).search(text)}


def test_the_lessons_are_numbered_from_01_without_gaps() -> None:
    assert [path.name[:2] for path in LESSONS] == [f"{number:02d}" for number in range(1, len(LESSONS) + 1)]


@pytest.mark.parametrize("path", LESSON_PATHS, ids=lambda path: path.name)
def test_lesson_ends_with_a_korean_summary(path: Path) -> None:
    last = _read(path).cells[-1]
    assert last.cell_type == "markdown", f"{path.name}: the last cell must be the Korean summary"
    assert last.source.startswith(KOREAN_HEADING), f"{path.name}: last cell must start with {KOREAN_HEADING!r}"
    body = last.source[len(KOREAN_HEADING):]
    assert len(HANGUL.findall(body)) > 100, f"{path.name}: the Korean summary is too short or not Korean"


def test_glossary_has_no_duplicate_english_terms() -> None:
    english = [term.english.lower() for term in GLOSSARY]
    duplicates = sorted({word for word in english if english.count(word) > 1})
    assert not duplicates, f"duplicate glossary entries: {duplicates}"


def test_every_korean_entry_is_korean() -> None:
    for term in GLOSSARY:
        assert HANGUL.search(term.korean), f"{term.english!r}: Korean entry {term.korean!r} has no Hangul"
        assert term.korean_forms, f"{term.english!r}: no Korean form"
        for form in term.korean_forms:
            assert HANGUL.search(form), f"{term.english!r}: alternative {form!r} has no Hangul"


def test_korean_forms_drop_parentheses_and_split_alternatives() -> None:
    term = Term("fully connected layer", "완전 연결 층 / 전결합층 (FC 층)")
    assert term.korean_forms == ("완전 연결 층", "전결합층")


def test_lookup_is_case_insensitive_and_explains_a_missing_term() -> None:
    assert lookup("u-net").english == "U-Net"
    with pytest.raises(KeyError, match="segedu/course/glossary.py"):
        lookup("vision transformer")


def test_docs_glossary_is_generated_from_the_table() -> None:
    assert (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8") == glossary_markdown(), (
        "docs/glossary.md is stale; run `python -m segedu.course.glossary > docs/glossary.md`"
    )


def test_glossary_markdown_has_one_row_per_term() -> None:
    rows = [line for line in glossary_markdown().splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(GLOSSARY) + 1  # + the header row


def test_term_matching_is_whole_word() -> None:
    assert _term_pattern("class").search("every Class here")
    assert _term_pattern("skip connection").search("two skip-connections")
    assert not _term_pattern("class").search("a classifier")


def test_lessons_use_the_glossary_and_the_seed_key_terms() -> None:
    used_per_lesson = {path.name: _terms_in(_english_text(path)) for path in LESSONS}
    used = set().union(*used_per_lesson.values())
    assert len(used) >= 0.8 * len(GLOSSARY), (
        f"only {len(used)} of {len(GLOSSARY)} glossary terms occur in a lesson; unused: "
        f"{sorted(term.english for term in GLOSSARY if term.english not in used)}"
    )
    for name, terms in used_per_lesson.items():
        assert len(terms) >= 10, f"{name}: only {sorted(terms)} from the glossary"
    english = {term.english for term in GLOSSARY}
    for key in SEED_KEY_TERMS:
        assert key in english, f"seed key term {key!r} missing from the glossary"
        assert key in used, f"seed key term {key!r} appears in no lesson"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name)
def test_korean_summary_uses_the_glossary_terms_of_its_lesson(path: Path) -> None:
    """The summary says, in the glossary's Korean, several terms its English lesson uses."""
    summary = _korean_summary(path)
    used = _terms_in(_english_text(path))
    lesson_terms = [term for term in GLOSSARY if term.english in used]
    said = [term.english for term in lesson_terms if any(form in summary for form in term.korean_forms)]
    assert len(said) >= 3, (
        f"{path.name}: the Korean summary uses the glossary's Korean for only {said}; "
        f"the lesson's terms are {[term.english for term in lesson_terms]}"
    )
