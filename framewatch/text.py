"""The one rule for text that has nothing to score.

Whitespace is spelt out as both Python and JSON Schema (ECMA-262) regexes read
it, so the API schema's pattern, the request validators, the predictor and the
segmenter all accept and refuse exactly the same strings.
"""

from __future__ import annotations

import re

__all__ = ["BLANK_CHARS", "NON_BLANK_PATTERN", "is_blank"]

BLANK_CHARS = r"\t\n\u000b\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NON_BLANK_PATTERN = rf"[^{BLANK_CHARS}]"
"""Matches one character that is not whitespace; a text with no match is blank."""

_non_blank = re.compile(NON_BLANK_PATTERN)


def is_blank(text: str) -> bool:
    """True for text that is empty or whitespace only: such text is refused, never scored."""
    return _non_blank.search(text) is None
