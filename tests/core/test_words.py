"""Counted nouns in messages: "1 problem", "2 problems", never "1 problem(s)"."""
import re
from pathlib import Path

from jupyter_mlprod.words import counted, verb

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_mlprod"


def test_counted_nouns_agree_with_their_number():
    assert counted(1, "problem") == "1 problem"
    assert counted(0, "problem") == "0 problems"
    assert counted(22, "problem") == "22 problems"
    assert counted(2, "data/model change") == "2 data/model changes"
    assert f"{counted(1, 'blob')} {verb(1, 'is', 'are')} missing" == "1 blob is missing"
    assert f"{counted(3, 'blob')} {verb(3, 'is', 'are')} missing" == "3 blobs are missing"


def test_no_message_counts_with_a_parenthesised_plural():
    """A number (or a placeholder for one) followed by `noun(s)` in any string of the package."""
    counted_plural = re.compile(r"(\d|\}|%[sd])\s+[\w/ ]*?\w\(s\)")
    hits = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
            for path in sorted(PACKAGE.rglob("*.py")) if path.name != "words.py"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if counted_plural.search(line)]
    assert hits == []
