import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb import quotes


def test_typography_is_forgiven() -> None:
    text = "It\u2019s a \u201cslow\u201d run \u2014 long   and\neasy."
    assert quotes.find('it\'s a "SLOW" run - long and easy.', text) is not None


def test_ellipsis_joins_fragments_in_order() -> None:
    text = "Running shrinks legs. Cycling builds quads."
    assert quotes.find("Running ... builds quads", text) is not None
    assert quotes.find("Running \u2026 builds quads", text) is not None
    assert quotes.find("builds quads ... Running", text) is None


def test_nothing_else_is_forgiven() -> None:
    text = "Running shrinks legs."
    assert quotes.find("Running shrinks the legs.", text) is None
    assert quotes.find("Running shrinks legs!", text) is None
    assert quotes.find("...", text) is None


def test_spans_map_back_to_original_offsets() -> None:
    text = "A  \u201cquoted\u201d   Word here"
    (span,) = quotes.find('"quoted" word', text)
    assert text[span.start : span.end] == "\u201cquoted\u201d   Word"


def test_closest_passage_suggests_the_nearest_sentence() -> None:
    text = "Cycling builds quads. Running shrinks legs over months. Eat protein."
    assert (
        quotes.closest_passage("running shrinks the legs over months", text)
        == "Running shrinks legs over months."
    )


def test_closest_passage_is_found_in_a_long_text_without_sentence_breaks() -> None:
    filler = "legs run cycle muscle protein thigh calf " * 5000  # no full stop anywhere
    text = filler + "long slow running shrinks the big leg muscles over months " + filler
    hint = quotes.closest_passage("Long, slow running shrinks the leg muscles over many months.", text)
    assert hint is not None and "shrinks the big leg muscles" in hint


def test_closest_passage_bounds_its_work(monkeypatch) -> None:
    """However long the quote and the text, only a bounded number of bounded comparisons is made."""
    compared: list[tuple[int, int]] = []
    real = quotes.difflib.SequenceMatcher

    class Counting(real):  # type: ignore[misc, valid-type]
        def ratio(self) -> float:
            compared.append((len(self.a), len(self.b)))
            return super().ratio()

    monkeypatch.setattr(quotes.difflib, "SequenceMatcher", Counting)
    quotes.closest_passage("zebra quagga " * 8000, "word7 " * 200_000)
    assert 0 < len(compared) <= quotes.HINT_CANDIDATES
    assert all(a <= 2 * quotes.HINT_QUOTE_CHARS and b <= quotes.HINT_QUOTE_CHARS for a, b in compared)


@pytest.mark.parametrize(
    ("quote", "passage", "difference"),
    [
        ("Running shrinks the legs", "We know that running shrinks legs fast.", "'the' not in the source"),
        (
            "Long runs really shrink legs",
            "Long runs do not shrink legs.",
            "'really' where the source has 'do not'",
        ),
        ("Long runs shrink legs", "Long runs do not shrink legs.", "the source has 'do not' here"),
        (
            "eat less protein for small legs",
            "Eat less protein for smaller legs.",
            "'small' where the source has 'smaller'",
        ),
        ("Long runs do not shrink, legs", "Long runs do not shrink legs.", None),  # punctuation only
    ],
)
def test_word_difference(quote: str, passage: str, difference: str | None) -> None:
    assert quotes.word_difference(quote, passage) == difference


def test_not_found_message_names_the_passage_and_the_words() -> None:
    text = "Intro. Sprinting builds muscle in the legs. Long runs do not shrink legs at all."
    assert quotes.not_found_message("Sprinting builds big muscle", text) == (
        "; closest passage: 'Sprinting builds muscle in the legs.'; differs in: 'big' not in the source"
    )
    assert quotes.not_found_message("zzz qqq", text) == ""


def test_a_cached_position_is_trusted_only_where_the_text_holds_the_quote() -> None:
    text = "Run long.  The only sure-fire way \u2014 to lose muscle... is to stop.\n"
    for quote in ["The only sure-fire way", "the ONLY sure-fire   way", "Run long. ... to stop."]:
        spans = quotes.find(quote, text)
        assert spans is not None and quotes.spans_match(quote, text, spans)
    exact = quotes.find("The only sure-fire way", text)
    assert exact is not None
    moved = [quotes.Span(start=exact[0].start + 1, end=exact[0].end + 1)]
    assert not quotes.spans_match("The only sure-fire way", text, moved)
    beyond = [quotes.Span(start=len(text) - 3, end=len(text) + 20)]
    assert not quotes.spans_match("stop.\n", text, beyond)
    assert not quotes.spans_match("  ", text, [quotes.Span(start=9, end=11)])  # white space is no quote
    assert not quotes.spans_match("a", "a", [quotes.Span(start=0, end=1), quotes.Span(start=0, end=1)])


def test_a_cached_position_of_a_quote_in_pieces_is_checked_piece_by_piece() -> None:
    """A quote with '...' copied exactly is checked without normalising; one whose pieces differ
    in case or typography is checked normalised; pieces out of order or moved are refused."""
    text = "Run long. The only sure-fire way \u2014 to lose muscle is to stop. Then rest."
    for quote in ["Run long. ... to stop.", "run LONG ... is to stop ... Then rest.", "...Run long... rest."]:
        spans = quotes.find(quote, text)
        assert spans is not None and len(spans) > 1 and quotes.spans_match(quote, text, spans), quote
    first, second = quotes.find("Run long. ... to stop.", text)
    assert not quotes.spans_match("Run long. ... to stop.", text, [second, first])  # out of order
    moved = quotes.Span(start=second.start + 1, end=second.end + 1)
    assert not quotes.spans_match("Run long. ... to stop.", text, [first, moved])
    assert not quotes.spans_match("Run long. ... to stop.", text, [first])  # a piece is missing
    assert not quotes.spans_match("Run long. ... to stop. ... rest", text, [first, second])


def _normal_text_one_by_one(text: str) -> tuple[str, list[int]]:
    """What quotes.normal_text gives, worked out character by character: each word character kept,
    each run of white space between two words one space, at the offset of the run's first character;
    lower-cased as a whole where that keeps the length, else character by character."""
    translated = text.translate(quotes._TRANSLATE)
    chars: list[str] = []
    offsets: list[int] = []
    i = 0
    while i < len(translated):
        if translated[i].isspace():
            j = i
            while j < len(translated) and translated[j].isspace():
                j += 1
            if chars and j < len(translated):
                chars.append(" ")
                offsets.append(i)
            i = j
        else:
            chars.append(translated[i])
            offsets.append(i)
            i += 1
    joined = "".join(chars)
    if len(joined.lower()) == len(joined):
        return joined.lower(), offsets
    lowered = [(piece, at) for ch, at in zip(joined, offsets, strict=True) for piece in ch.lower()]
    return "".join(p for p, _ in lowered), [at for _, at in lowered]


@given(
    st.text(
        alphabet=st.sampled_from(
            list("ab Z.\n\t\r") + ["\u00a0", "\u2019", "\u2014", "\u0130", "\u03a3", "\u3000", "\x1c"]
        ),
        max_size=60,
    )
)
def test_the_normal_text_maps_every_character_back_to_where_it_was(text: str) -> None:
    expected, offsets = _normal_text_one_by_one(text)
    normal = quotes.normal_text(text)
    assert normal.text == expected
    assert [normal.offset(i) for i in range(len(normal.text))] == offsets
