"""Split the real-text pool by document into the dev and test halves that realtext-v1 was drawn from.

A document (speech, article, record page) goes wholly to one half, by the
parity of the sha256 of its ``doc_id``, so no document can appear in both
splits. Writes ``pool-dev.jsonl`` and ``pool-test.jsonl`` into OUTPUT_DIR, which
stays outside the repository: the text is not the project's to ship.

    python scripts/realtext_split_pool.py OUTPUT_DIR
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from framewatch.corpus import load_corpus


def split_of(doc_id: str) -> str:
    return "test" if int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % 2 else "dev"


def main(output_dir: str) -> int:
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    handles = {name: (out / f"pool-{name}.jsonl").open("w", encoding="utf-8") for name in ("dev", "test")}
    for row in load_corpus():
        handles[split_of(row["doc_id"])].write(json.dumps(row, ensure_ascii=False) + "\n")
    for handle in handles.values():
        handle.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
