from framewatch.segment import split_sentences


def test_offsets_index_the_original_text():
    text = '  Dr. Smith reached Moscow on 3 May.  He said "no."\n\nThe U.S. army left in 1943. Really?  '
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Dr. Smith reached Moscow on 3 May.",
        'He said "no."',
        "The U.S. army left in 1943.",
        "Really?",
    ]
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_blank_text_has_no_sentences():
    assert split_sentences(" \n\t ") == []


def _covered(text: str, spans) -> bool:
    """Every non-blank character of ``text`` lies inside exactly one span."""
    owner = [0] * len(text)
    for span in spans:
        for i in range(span.start, span.end):
            owner[i] += 1
    return all(owner[i] == 1 for i, ch in enumerate(text) if not ch.isspace()) and max(owner, default=0) <= 1


ODD_TEXTS = [
    "No punctuation at all and a very long run on sentence that simply keeps going",
    "Weird   spacing .  Ellipsis... then more!!! And ?? and „quotes“ here.\u00a0Tail",
    "Lists:\n- one\n- two\n\n1. first 2. second\tTabs\r\nWindows line",
    "Repeated. Repeated. Repeated. Repeated.",
    "Emoji 🙂 inside. Mixed scripts: Это предложение. 这是一个句子。 Final",
    "(Parenthetical.) [Bracketed!] \"Quoted?\" 'Single.' «Guillemets.»",
    "a.b.c.d. e.f. U.S.A. Mr. Dr. St. 3.14 p.m. i.e. e.g. etc. end",
]


def test_every_non_blank_character_is_in_one_sentence():
    for text in ODD_TEXTS:
        spans = split_sentences(text)
        assert spans and _covered(text, spans), text
        for span in spans:
            assert text[span.start : span.end] == span.text and span.text == span.text.strip()


def test_segmentation_is_safe_under_concurrency():
    from concurrent.futures import ThreadPoolExecutor

    articles = [" ".join(f"Article {a} says thing {i}. It was on day {i}." for i in range(40)) for a in range(8)]
    expected = {a: split_sentences(a) for a in articles}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(split_sentences, articles * 25))
    assert all(result == expected[article] for result, article in zip(results, articles * 25))


def test_pieces_that_cannot_be_located_fall_back_to_a_plain_split(monkeypatch):
    import framewatch.segment as segment

    monkeypatch.setattr(segment, "_segmenter_starts", lambda text: None)
    text = "First one. Second one!  Third one? Fourth"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["First one.", "Second one!", "Third one?", "Fourth"]
    assert _covered(text, spans)
