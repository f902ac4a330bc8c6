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
