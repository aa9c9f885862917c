"""Candidate claims from a source's text, with the existing claims they resemble.

No model is needed: the heuristics are lexical and explainable.

1. The text is cut into sentences, with their offsets. Headings, questions,
   list-item titles and very short or very long sentences are skipped, and so
   are sentences the knowledge base already quotes from this source.
2. A sentence is a candidate when it talks about the knowledge base's topics
   (its content words appear in the vocabulary of the existing statements,
   tags and topics) and asserts or advises something (modal and advice verbs,
   causal verbs, comparatives, numbers).
3. Each candidate is compared with every existing claim by TF-IDF cosine
   similarity (the claim's statement, tags, topic and quotes against the
   sentence; idf over the claims). The nearest topic is found the same way.
4. The suggestion for each candidate uses the similarity plus two cues:
   direction words on two axes (size: bigger/smaller, builds/loses,
   increase/decrease, gain/lose, more/less; advice: do/avoid, start/stop) and
   negation. A close claim saying the same thing is "same claim: add this quote
   as evidence"; a related claim pointing the other way on a shared axis is
   "contradicts"; anything else is "new claim".

The result is only a draft: a person reads each one, edits it, and moves the
files worth keeping into ``claims/<topic>/``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from kb import quotes, schema
from kb.authoring import NewFiles, slugify, yaml_list, yaml_scalar
from kb.errors import KbError, UsageError
from kb.load import ID_PATTERN
from kb.model import KnowledgeBase

REVIEW_DIR = "review"
MIN_WORDS = 6
MAX_WORDS = 60
DEFAULT_LIMIT = 40
SIMILAR_COUNT = 3
# Cosine similarities (0..1) from trying the heuristics on the shipped knowledge base.
SAME_CLAIM_SIMILARITY = 0.45
RELATED_SIMILARITY = 0.25
# With --embeddings the similarity is the mean of the TF-IDF cosine and the embedding cosine;
# an embedding model rates any two sentences on one subject at 0.4 or more, hence higher bars.
BLENDED_SAME_CLAIM_SIMILARITY = 0.5
BLENDED_RELATED_SIMILARITY = 0.35

# An embedder maps texts to unit vectors, one row per text (see kb.embeddings).
Embedder = Callable[[list[str]], "np.ndarray"]
FALLBACK_TOPIC = "unsorted"

Suggestion = Literal["same", "contradicts", "new"]

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just let me my
    myself of off on once only or other our ours ourselves out over own same she so some such than that
    the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why with would you your yours yourself yourselves
    s t can will just don should now get got one thing things way really much many lot lots even still
    well us like also going go make makes made want wants say says said know think often""".split()
)
NEGATIONS = frozenset("not no never none nothing neither nor without cannot can't won't don't doesn't "
                      "isn't aren't wasn't weren't didn't shouldn't wouldn't couldn't haven't hasn't "
                      "hardly rarely".split())  # fmt: skip
# Direction words by axis: +1 more/do, -1 less/avoid; looked up by their stems.
SIZE_UP = (
    "big bigger biggest large larger bulk bulky bulkier build builds building grow grows growth gain gains "
    "increase increases add adds more thick thicker hypertrophy muscular pump explode"
)
SIZE_DOWN = (
    "small smaller slim slimmer slims slimming shrink shrinks shrinking lose loses losing loss decrease "
    "decreases reduce reduces reduction less fewer lessen thin thinner atrophy trim burn burns"
)
ADVICE_DO = "do start try include keep recommend"
ADVICE_AVOID = "avoid stop skip quit"
MODAL_OR_ADVICE = frozenset(
    "should must need needs can cannot can't will won't may might avoid try stop start recommend best key "
    "important essential always never don't".split()
)
CAUSAL = frozenset(
    "change changes set sets determine determines limit limits depend depends "
    "make makes made cause causes lead leads build builds building shrink shrinks burn burns help helps "
    "reduce reduces increase increases decrease decreases gain gains lose loses grow grows slim slims tone "
    "tones bulk prevent prevents improve improves affect affects trigger triggers result results keep "
    "keeps".split()
)
COMPARATIVES = frozenset(
    "more less fewer than bigger smaller larger leaner slimmer thinner thicker better worse".split()
)
STUDY_WORDS = frozenset("study studies research researchers trial participants journal meta-analysis".split())
MECHANISM_WORDS = frozenset("because since therefore triggers sign signal means".split())
FIRST_PERSON = frozenset("i i'm i've i'd me my myself".split())
ABBREVIATIONS = frozenset("e.g i.e dr mr mrs ms vs etc approx no fig st jr sr".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# --- words -------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A light suffix stripper: the same on both sides of every comparison is what matters."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            break
    else:
        if word.endswith("er") and len(word) > 5:
            word = word[:-2]
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    # undouble a final consonant left by a suffix: running -> runn -> run, bigger -> bigg -> big
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]
    return word


def _directions() -> dict[str, tuple[str, int]]:
    table = {}
    for axis, sign, listed in (
        ("size", +1, SIZE_UP),
        ("size", -1, SIZE_DOWN),
        ("advice", +1, ADVICE_DO),
        ("advice", -1, ADVICE_AVOID),
    ):
        table.update({stem(w): (axis, sign) for w in listed.split()})
    return table


DIRECTIONS = _directions()


def words(text: str) -> list[str]:
    """Lower-case words with typography normalised (curly apostrophes are straight)."""
    return _WORD.findall(quotes.normalise(text))


def content_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and w not in NEGATIONS and len(w) > 1]


# --- sentences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str  # the sentence as it appears, white space collapsed
    line: int


_TERMINAL = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
# A boundary starts only where a run of stops starts, and no run gives characters back: linear in
# the length of the text, however many dots come in a row.
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'\u201d\u2019)\]]*+\s++(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"[A-Za-z.]{1,32}$")
_BULLET = re.compile(r"^(?:[-*\u2022\u2023\u25e6\u2013\u2014>]|\d{1,2}[.)])\s+")


def _blocks(text: str) -> Iterable[tuple[int, int]]:
    """Spans of text that may hold sentences: lines, with hard-wrapped lines joined back."""
    start = None
    end = 0
    for match in re.finditer(r"[^\n]*\n?", text):
        line = match.group().rstrip("\n")
        if not line.strip():
            if start is not None:
                yield start, end
                start = None
            continue
        stripped = line.strip()
        previous = text[start:end].rstrip() if start is not None else ""
        continues = (
            start is not None
            and not _TERMINAL.search(previous)
            and not previous.endswith(":")
            and (stripped[0].islower() or stripped[0] in ",;")
        )
        if start is not None and not continues:
            yield start, end
            start = None
        if start is None:
            start = match.start()
        end = match.start() + len(line)
    if start is not None:
        yield start, end


def sentences(text: str) -> list[Sentence]:
    """Every sentence of ``text`` with its offsets; list bullets removed from the start."""
    out: list[Sentence] = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        lo, hi = 0, len(line_starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if line_starts[mid] <= offset else (lo, mid)
        return lo + 1

    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        cuts = [0]
        for match in _BOUNDARY.finditer(block):
            # the word before a full stop (bounded: abbreviations are short)
            before = _WORD_BEFORE.search(block, max(cuts[-1], match.start() - 32), match.start())
            if block[match.start()] == "." and before and before.group().lower().rstrip(".") in ABBREVIATIONS:
                continue
            cuts.append(match.end())
        cuts.append(len(block))
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = block[a:b]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            bullet = _BULLET.match(piece)
            if bullet:
                lead += bullet.end()
                piece = piece[bullet.end() :]
            if piece:
                start = block_start + a + lead
                out.append(Sentence(start, start + len(piece), " ".join(piece.split()), line_of(start)))
    return out


def _looks_like_heading(sentence: str) -> bool:
    if sentence.startswith("#") or not _TERMINAL.search(sentence):
        return True
    tokens = sentence.split()
    capitalised = sum(1 for t in tokens if t[:1].isupper())
    return len(tokens) <= 8 and capitalised >= 0.7 * len(tokens)


def skip_reason(sentence: str) -> str | None:
    """Why a sentence is not a candidate by its form alone, or None."""
    if sentence.rstrip("\"'\u201d\u2019) ").endswith("?"):
        return "question"
    if _looks_like_heading(sentence):
        return "heading"
    count = len(sentence.split())
    if count < MIN_WORDS:
        return "too short"
    if count > MAX_WORDS:
        return "too long"
    return None


# --- vectors -----------------------------------------------------------------------------------


def _vector(stems: Iterable[str], idf: Callable[[str], float]) -> dict[str, float]:
    counts = Counter(stems)
    vec = {t: (1 + math.log(n)) * idf(t) for t, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _claim_document(kb: KnowledgeBase, claim_id: str) -> list[str]:
    claim = kb.claims[claim_id]
    stems = content_stems(claim.statement) * 2  # the statement says what the claim is; quotes support it
    stems += content_stems(" ".join(claim.tags)) + content_stems(claim.topic.replace("-", " "))
    for ev in claim.evidence:
        stems += content_stems(ev.quote)
    return stems


@dataclass
class Index:
    """TF-IDF vectors of the existing claims and topics."""

    claims: dict[str, dict[str, float]]
    topics: dict[str, dict[str, float]]
    core: frozenset[str]
    vocabulary: frozenset[str]
    idf: Callable[[str], float]

    def similarity(self, text: str, other: dict[str, float]) -> float:
        """Cosine of ``other`` with the text or with its best clause: a long sentence often
        holds the claim in one clause, and the rest would only dilute the match."""
        pieces = [content_stems(text)] + [
            stems for stems in (content_stems(" ".join(c)) for c in clauses(text)) if len(stems) >= 3
        ]
        return max(cosine(_vector(p, self.idf), other) for p in pieces)


def build_index(kb: KnowledgeBase) -> Index:
    documents = {cid: _claim_document(kb, cid) for cid in kb.claims}
    df = Counter(t for doc in documents.values() for t in set(doc))
    n = len(documents)

    def idf(term: str) -> float:
        return math.log((1 + n) / (1 + df.get(term, 0))) + 1

    topic_docs: dict[str, list[str]] = {}
    for claim in kb.claims.values():
        doc = topic_docs.setdefault(claim.topic, content_stems(claim.topic.replace("-", " ")) * 3)
        doc += content_stems(claim.statement) + content_stems(" ".join(claim.tags))
    # the words a knowledge base is about: its statements, tags, topics and title ("core"),
    # and, more loosely, the words of the quotes that back them
    core: set[str] = set(content_stems(f"{kb.config.title} {kb.config.description}")) if kb.claims else set()
    quoted: set[str] = set()
    for claim in kb.claims.values():
        core.update(
            content_stems(f"{claim.statement} {' '.join(claim.tags)} {claim.topic.replace('-', ' ')}")
        )
        for ev in claim.evidence:
            quoted.update(content_stems(ev.quote))
    return Index(
        claims={cid: _vector(doc, idf) for cid, doc in documents.items()},
        topics={t: _vector(doc, idf) for t, doc in sorted(topic_docs.items())},
        core=frozenset(core),
        vocabulary=frozenset(core | quoted),
        idf=idf,
    )


# --- cues --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Polarity:
    """Direction per axis after negation, and the words that set it (for the explanation)."""

    axes: dict[str, int]
    cues: tuple[str, ...]


# Words and marks that end a clause: a negation does not reach past them.
CLAUSE_BREAKS = frozenset("because but while although though whereas unless which since so".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[,;:()\u2014\u2013]| - ")


def clauses(text: str) -> list[list[str]]:
    """The words of ``text`` grouped by clause (cut at punctuation and at because/but/while...)."""
    out: list[list[str]] = [[]]
    for token in _TOKEN.findall(quotes.normalise(text)):
        if token.strip() in ",;:()\u2014\u2013-" or token in CLAUSE_BREAKS:
            if out[-1]:
                out.append([])
        else:
            out[-1].append(token)
    return [c for c in out if c]


def _negation(token: str) -> bool:
    return token in NEGATIONS or token.endswith("n't")


def _rejected_alternative(clause: list[str]) -> int:
    """Where "rather than" or "instead of" starts in a clause's words (its length if nowhere)."""
    for position, pair in enumerate(zip(clause, clause[1:], strict=False)):
        if pair in (("rather", "than"), ("instead", "of")):
            return position
    return len(clause)


def polarity(text: str) -> Polarity:
    """Which way a text points on each axis.

    In each clause the last direction word of an axis counts (the effect usually comes last:
    "less protein makes legs smaller"), flipped when a negation comes before it in the same
    clause; the clauses then add up. What follows "rather than" or "instead of" is the
    alternative the clause rejects ("builds muscle rather than shrinking it"), so it sets
    no direction.
    """
    totals: Counter[str] = Counter()
    cues: list[str] = []
    for clause in clauses(text):
        clause = clause[: _rejected_alternative(clause)]
        last: dict[str, tuple[int, int]] = {}
        for position, token in enumerate(clause):
            found = DIRECTIONS.get(stem(token))
            if found:
                last[found[0]] = (position, found[1])
        for axis, (position, sign) in last.items():
            negations = [t for t in clause[:position] if _negation(t)]
            totals[axis] += -sign if len(negations) % 2 else sign
            cues.extend([*negations, clause[position]])
    axes = {axis: 1 if total > 0 else -1 for axis, total in totals.items() if total}
    return Polarity(axes, tuple(cues))


def _sides_of_than(text: str) -> tuple[set[str], set[str]] | None:
    tokens = words(text)
    if "than" not in tokens:
        return None
    at = tokens.index("than")
    return set(content_stems(" ".join(tokens[:at]))), set(content_stems(" ".join(tokens[at + 1 :])))


def comparison_swapped(a: str, b: str) -> bool:
    """Whether two comparisons put the same things on opposite sides of "than".

    "intervals build more muscle than a steady pace" and "a steady pace shrinks legs better
    than intervals" point opposite ways on the words but say the same thing.
    """
    sides_a, sides_b = _sides_of_than(a), _sides_of_than(b)
    if sides_a is None or sides_b is None:
        return False
    return bool(sides_a[0] & sides_b[1]) and bool(sides_a[1] & sides_b[0])


def opposite_axis(a: Polarity, b: Polarity) -> str | None:
    """The first axis on which the two point in opposite directions, or None."""
    return next((axis for axis in sorted(a.axes) if axis in b.axes and a.axes[axis] != b.axes[axis]), None)


def cue_score(sentence: str) -> tuple[int, list[str]]:
    """How much a sentence asserts or advises: one point per kind of cue, with the cues found."""
    tokens = words(sentence)
    found = []
    for name, table in (
        ("modal/advice", MODAL_OR_ADVICE),
        ("causal verb", CAUSAL),
        ("comparative", COMPARATIVES),
    ):
        hit = next((t for t in tokens if t in table), None)
        if hit:
            found.append(f"{name} '{hit}'")
    if not any("comparative" in f for f in found):
        hit = next((t for t in tokens if re.fullmatch(r"[a-z]{3,}er", t) and "than" in tokens), None)
        if hit:
            found.append(f"comparative '{hit}'")
    number = re.search(r"\d", sentence)
    if number:
        found.append("number")
    return len(found), found


# --- candidates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Similar:
    claim_id: str
    score: float


@dataclass
class Candidate:
    id: str
    sentence: Sentence
    quote: str
    topic: str
    similar: list[Similar]
    suggestion: Suggestion
    target: str | None  # the claim the suggestion is about
    reason: str
    cues: list[str]
    evidence_kind: str
    evidence_kind_reason: str
    relevance: list[str] = field(default_factory=list)


def _evidence_kind(kb: KnowledgeBase, source_id: str, sentence: str) -> tuple[str, str]:
    tokens = set(words(sentence))
    if kb.sources[source_id].kind in ("study", "review"):
        return "study", f"the source is a {kb.sources[source_id].kind}"
    if tokens & FIRST_PERSON:
        return "experience", "the author speaks of themselves"
    if tokens & MECHANISM_WORDS:
        return "mechanism", "the sentence gives a reason"
    if tokens & STUDY_WORDS:
        return "expert-opinion", "it mentions research, but the source is not a study"
    return "expert-opinion", "default for an author's statement"


def _suggest(
    kb: KnowledgeBase,
    sentence: str,
    similar: list[Similar],
    same_bar: float = SAME_CLAIM_SIMILARITY,
    related_bar: float = RELATED_SIMILARITY,
) -> tuple[Suggestion, str | None, str]:
    """Same claim, contradicting claim or new claim, judged against the similar claims in rank order.

    A "new" suggestion may still name a related claim (close, same direction), which the
    draft offers as a commented-out ``supports`` line.
    """
    mine = polarity(sentence)
    related: Similar | None = None
    for match in similar:
        if match.score < related_bar:
            break
        statement = kb.claims[match.claim_id].statement
        theirs = polarity(statement)
        axis = opposite_axis(mine, theirs)
        if axis and not comparison_swapped(sentence, statement):
            cues = f"{', '.join(mine.cues)} vs {', '.join(theirs.cues)}"
            reason = f"similarity {match.score:.2f}, opposite direction on {axis} ({cues})"
            return "contradicts", match.claim_id, reason
        if match.score >= same_bar and related is None:
            return "same", match.claim_id, f"similarity {match.score:.2f}, same direction"
        related = related or match
    if related is not None:
        return "new", related.claim_id, f"related to '{related.claim_id}', similarity {related.score:.2f}"
    if not similar:
        return "new", None, "no existing claim shares its words"
    return "new", None, f"the nearest claim has similarity {similar[0].score:.2f}"


def _unique_id(base: str, taken: set[str]) -> str:
    base = base or "candidate"
    if not ID_PATTERN.match(base):
        base = f"c-{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out


def _quoted_spans(kb: KnowledgeBase, source_id: str) -> list[tuple[int, int]]:
    spans = []
    for (claim_id, index), found in kb.quote_spans.items():
        if kb.claims[claim_id].evidence[index].source == source_id:
            spans.extend((s.start, s.end) for s in found)
    return spans


@dataclass
class Extraction:
    source_id: str
    candidates: list[Candidate]
    sentences: int
    skipped: Counter[str]
    similarity: str = "TF-IDF cosine"


def extract(
    kb: KnowledgeBase, source_id: str, limit: int = DEFAULT_LIMIT, embed: Embedder | None = None
) -> Extraction:
    """The candidate claims of one source, in the order they appear in its text.

    With ``embed`` the similarity to each claim is the mean of the TF-IDF cosine and the
    cosine of the sentence embeddings (statement against sentence); the rest is the same.
    """
    if source_id not in kb.sources:
        raise UsageError(f"unknown source {source_id!r}; sources: {', '.join(kb.sources) or 'none'}")
    text = kb.texts[source_id]
    index = build_index(kb)
    quoted = _quoted_spans(kb, source_id)
    skipped: Counter[str] = Counter()
    scored: list[tuple[float, Sentence, list[str], list[str]]] = []
    all_sentences = sentences(text)
    for sentence in all_sentences:
        reason = skip_reason(sentence.text)
        if reason is None and any(a < sentence.end and sentence.start < b for a, b in quoted):
            reason = "already quoted"
        if reason:
            skipped[reason] += 1
            continue
        stems = set(content_stems(sentence.text))
        relevant = sorted(stems & index.vocabulary)
        cues, cue_names = cue_score(sentence.text)
        # with no claims yet there is no vocabulary: the cues alone decide
        if index.vocabulary:
            wanted = len(relevant) >= 2 and bool(stems & index.core) and cues >= 1
        else:
            wanted = cues >= 2
        if not wanted:
            skipped["off topic or no assertion"] += 1
            continue
        scored.append((len(relevant) + cues, sentence, relevant, cue_names))
    if len(scored) > limit:
        keep = sorted(scored, key=lambda s: (-s[0], s[1].start))[:limit]
        skipped["over the limit"] += len(scored) - limit
        scored = sorted(keep, key=lambda s: s[1].start)
    taken = set(kb.claims)
    candidates = []
    claim_ids = list(kb.claims)
    same_bar, related_bar = SAME_CLAIM_SIMILARITY, RELATED_SIMILARITY
    semantic: np.ndarray | None = None
    if embed is not None and scored and claim_ids:
        # one matrix of cosines: candidate sentences x claim statements
        sentence_vectors = embed([s.text for _, s, _, _ in scored])
        claim_vectors = embed([kb.claims[c].statement for c in claim_ids])
        semantic = np.asarray(sentence_vectors) @ np.asarray(claim_vectors).T
        same_bar, related_bar = BLENDED_SAME_CLAIM_SIMILARITY, BLENDED_RELATED_SIMILARITY
    for row, (_score, sentence, relevant, cue_names) in enumerate(scored):
        quote = sentence.text
        if quotes.find(quote, text) is None:  # cannot happen for a sentence cut from the text; be sure
            skipped["quote not found"] += 1
            continue
        vec = _vector(content_stems(sentence.text), index.idf)
        scores = {cid: index.similarity(sentence.text, index.claims[cid]) for cid in claim_ids}
        if semantic is not None:
            scores = {cid: (scores[cid] + float(semantic[row, j])) / 2 for j, cid in enumerate(claim_ids)}
        ranked = sorted(
            (Similar(cid, round(score, 2)) for cid, score in scores.items()),
            key=lambda s: (-s.score, s.claim_id),
        )
        similar = [s for s in ranked[:SIMILAR_COUNT] if s.score > 0]
        topics = sorted(
            ((round(cosine(vec, tv), 4), t) for t, tv in index.topics.items()), key=lambda x: (-x[0], x[1])
        )
        topic = topics[0][1] if topics and topics[0][0] > 0 else FALLBACK_TOPIC
        suggestion, target, reason = _suggest(kb, sentence.text, similar, same_bar, related_bar)
        kind, kind_reason = _evidence_kind(kb, source_id, sentence.text)
        # negations stay in the id, in place, so that it does not say the opposite of the sentence
        words_for_id = [w for w in words(sentence.text) if w not in STOPWORDS or _negation(w)]
        base = slugify(" ".join("not" if w.endswith("n't") else w for w in words_for_id[:6]))
        candidates.append(
            Candidate(
                id=_unique_id(base, taken),
                sentence=sentence,
                quote=quote,
                topic=topic,
                similar=similar,
                suggestion=suggestion,
                target=target,
                reason=reason,
                cues=cue_names,
                evidence_kind=kind,
                evidence_kind_reason=kind_reason,
                relevance=relevant,
            )
        )
    method = "mean of TF-IDF and embedding cosines" if semantic is not None else "TF-IDF cosine"
    return Extraction(source_id, candidates, len(all_sentences), skipped, method)


# --- drafts ------------------------------------------------------------------------------------


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"# {indent}{line}".rstrip() + "\n" for line in text.splitlines()]


def evidence_lines(candidate: Candidate, source_id: str, indent: str = "  ") -> list[str]:
    return [
        f"{indent}- source: {source_id}\n",
        f"{indent}  stance: supports\n",
        f"{indent}  kind: {candidate.evidence_kind}\n",
        f"{indent}  quote: {yaml_scalar(candidate.quote, quoted=True)}\n",
        f"{indent}  speaker: author\n",
    ]


def draft_yaml(kb: KnowledgeBase, draft_path: Path, extraction: Extraction, candidate: Candidate) -> str:
    """One candidate as a claim file: the suggestion and similar claims as comments, then the claim."""
    number = extraction.candidates.index(candidate) + 1
    source_id = extraction.source_id
    source = kb.sources[source_id]
    out = [schema.modeline(draft_path, kb.root, "claim")]
    out += _comment(
        f"Draft {number} of {len(extraction.candidates)} by kb extract, from source '{source_id}' "
        f"(sources/{source.text}, line {candidate.sentence.line})."
    )
    target = kb.claims[candidate.target] if candidate.target else None
    if candidate.suggestion == "same" and target is not None:
        out += _comment(f"Suggestion: same claim as '{target.id}' ({candidate.reason}).")
        out += _comment(
            f"  Add this quote as evidence to {target.path} and delete this draft; the item to paste:"
        )
        out += ["#   evidence:\n"] + [f"# {line}" for line in evidence_lines(candidate, source_id, "    ")]
        out += _comment("  If the source says the opposite of that claim, paste it with stance: opposes.")
    elif candidate.suggestion == "contradicts" and target is not None:
        out += _comment(f"Suggestion: contradicts '{target.id}' ({candidate.reason}).")
        out += _comment("  Keep this as a new claim: the contradicts line below links the two.")
        out += _comment(f"  If it is the same claim put the other way, add the quote to {target.path}")
        out += _comment("  with stance: opposes instead, and delete this draft.")
    else:
        out += _comment(f"Suggestion: new claim ({candidate.reason}).")
        if target is not None:
            out += _comment(
                f"  If this claim, if true, makes '{target.id}' more likely, uncomment the supports line."
            )
    if candidate.similar:
        out += _comment(f"Most similar existing claims ({extraction.similarity}, 0..1):")
        for match in candidate.similar:
            claim = kb.claims[match.claim_id]
            out += _comment(f"  {match.score:.2f}  {claim.id} ({claim.path}): {claim.statement}")
    out += _comment(
        f"Why this sentence: about {', '.join(candidate.relevance) or 'the topics'}; "
        f"{'; '.join(candidate.cues)}."
    )
    out += _comment(
        f"Topic: the nearest existing topic by vocabulary. Kind: {candidate.evidence_kind_reason}."
    )
    out += _comment(
        "To keep it: write the statement as one clear sentence, check topic, stance and kind,\n"
        "then move this file into claims/<topic>/ and run kb validate."
    )
    out += [
        f"statement: {yaml_scalar(candidate.quote)}\n",
        f"topic: {yaml_scalar(candidate.topic)}\n",
        "evidence:\n",
        *evidence_lines(candidate, source_id),
    ]
    if candidate.suggestion == "contradicts" and candidate.target:
        out.append(f"contradicts: {yaml_list([candidate.target])}\n")
    elif candidate.suggestion == "new" and candidate.target:
        out.append(f"# supports: {yaml_list([candidate.target])}\n")
    return "".join(out)


def review_folder(kb_root: Path, source_id: str) -> Path:
    return kb_root / REVIEW_DIR / source_id


def plan_review(kb: KnowledgeBase, extraction: Extraction) -> NewFiles:
    folder = review_folder(kb.root, extraction.source_id)
    planned = NewFiles(id=extraction.source_id)
    for candidate in extraction.candidates:
        path = folder / f"{candidate.id}.yaml"
        planned.files[path] = draft_yaml(kb, path, extraction, candidate)
    return planned


def existing_drafts(kb_root: Path, source_id: str) -> list[Path]:
    folder = review_folder(kb_root, source_id)
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def refuse_existing_drafts(kb_root: Path, source_id: str) -> None:
    found = existing_drafts(kb_root, source_id)
    if found:
        raise KbError(
            f"{REVIEW_DIR}/{source_id}/ already holds {len(found)} draft{'s' if len(found) != 1 else ''}; "
            "review them, or pass --force to write the drafts again"
        )
