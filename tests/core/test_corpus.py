import json

import pytest

from framewatch.corpus import CORPORA_ENV, corpora_dir, load_corpus
from framewatch.data import read_examples, validate_files
from framewatch.errors import DataError

LABELS = ["a", "b"]


def _pool(directory, rows):
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "realtext-pool.jsonl").open("w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return directory


POOL = [
    {"id": "src:doc1:0", "text": "The first real sentence.", "doc_id": "doc1", "source": "src", "register": "news"},
    {"id": "src:doc2:0", "text": "Another real sentence here.", "doc_id": "doc2", "source": "src", "register": "news"},
]


def test_rows_with_only_an_id_take_text_and_document_from_the_corpus(tmp_path):
    corpus = _pool(tmp_path / "corpora", POOL)
    data = tmp_path / "set.jsonl"
    data.write_text('{"id": "src:doc2:0", "labels": ["b"], "stratum": "random"}\n{"text": "Own text.", "labels": []}\n')
    first, second = read_examples(data, LABELS, corpus_dir=corpus)
    assert first.text == "Another real sentence here." and first.labels == ("b",)
    assert first.fields["doc_id"] == "doc2" and first.fields["stratum"] == "random"
    assert second.text == "Own text."


def test_missing_corpus_and_unknown_ids_are_reported_with_file_and_line(tmp_path, monkeypatch):
    monkeypatch.delenv(CORPORA_ENV, raising=False)
    data = tmp_path / "set.jsonl"
    data.write_text('{"id": "src:doc1:0", "labels": []}\n{"id": "src:nope:9", "labels": []}\n')
    with pytest.raises(DataError, match=r"set.jsonl:1: .*real-text corpus not found: .*absent.*realtext-pool"):
        read_examples(data, LABELS, corpus_dir=tmp_path / "absent")
    corpus = _pool(tmp_path / "corpora", POOL)
    report = validate_files([data], LABELS, corpus_dir=corpus)
    assert report.problems == [f"{data}:2: id 'src:nope:9' is not in the corpus {(corpus / 'realtext-pool.jsonl')}"]


def test_environment_overrides_the_configured_directory(tmp_path, monkeypatch):
    corpus = _pool(tmp_path / "env-corpora", POOL)
    monkeypatch.setenv(CORPORA_ENV, str(corpus))
    assert corpora_dir("configured/elsewhere") == corpus
    assert len(load_corpus("configured/elsewhere")) == 2
