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
from collections import Counter, defaultdict
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
# A claim of the draft's own topic is offered from this similarity on, and at most this many claims.
TOPIC_SIMILARITY = 0.12
MAX_RELATIONS = 6
COMMON_SHARE = 0.2
# A sentence with this many of the base's words is a candidate even without an assertion cue.
ASSERTION_WORDS = 4
# With --embeddings the similarity is the mean of the TF-IDF cosine and the embedding cosine;
# an embedding model rates any two sentences on one subject at 0.4 or more, hence higher bars.
BLENDED_SAME_CLAIM_SIMILARITY = 0.5
BLENDED_RELATED_SIMILARITY = 0.35

# An embedder maps texts to unit vectors, one row per text (see kb.embeddings).
Embedder = Callable[[list[str]], "np.ndarray"]
FALLBACK_TOPIC = "unsorted"

Suggestion = Literal["same", "opposes", "contradicts", "new"]

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
ADVICE_AVOID = "avoid stop skip quit giveup givingup cutout stayawayfrom getridof"
MODAL_OR_ADVICE = frozenset(
    "should must need needs can cannot can't will won't may might avoid try stop start recommend best key "
    "important essential always never don't".split()
)
CAUSAL = frozenset(
    "change changes set sets determine determines limit limits depend depends "
    "make makes made cause causes lead leads build builds building shrink shrinks burn burns help helps "
    "reduce reduces increase increases decrease decreases gain gains lose loses grow grows slim slims tone "
    "tones bulk prevent prevents improve improves affect affects trigger triggers result results keep "
    "keeps raise raises raised lower lowers switch matter matters harm harms protect protects used".split()
)
# Words by which an author takes a side on what others say.
STANCE_WORDS = frozenset("agree agrees disagree disagrees wrong right myth true false untrue".split())
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
    # words in more than a fifth of the claims: what the whole base is about ("leg", "muscle"),
    # so sharing one says nothing about two texts speaking of the same thing
    common: frozenset[str] = frozenset()

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
        common=frozenset(t for t, count in df.items() if n >= 5 and count > COMMON_SHARE * n),
    )


# --- cues --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Polarity:
    """Direction per axis after negation; per axis, the words that set it (quoted in reasons)
    and the other content words of the clauses they are in (what the direction is about)."""

    axes: dict[str, int]
    cues: dict[str, tuple[str, ...]]
    about: dict[str, frozenset[str]] = field(default_factory=dict)


# Words and marks that end a clause: a negation does not reach past them.
CLAUSE_BREAKS = frozenset("because but while although though whereas unless which since so".split())
# A clause after these gives a reason or concedes a point: its direction counts half
# ("will not make your legs bigger, because it is too light to be a growth signal").
SUBORDINATORS = frozenset("because while although though whereas unless which since".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[,;:()\u2014\u2013]| - ")
# Phrases read as one word before directions are looked up ("give up coffee" is "quit coffee").
PHRASES = (
    (re.compile(r"\bgive up\b"), "giveup"),
    (re.compile(r"\bgiving up\b"), "givingup"),
    (re.compile(r"\bcut out\b"), "cutout"),
    (re.compile(r"\bstay(?:s|ing)? away from\b"), "stayawayfrom"),
    (re.compile(r"\bget rid of\b"), "getridof"),
    (re.compile(r"\bno need to\b"), "noneedto"),
)
# The phrases as they are written, for reasons that quote them.
PHRASE_WORDS = {
    "giveup": "give up",
    "givingup": "giving up",
    "cutout": "cut out",
    "stayawayfrom": "stay away from",
    "getridof": "get rid of",
    "noneedto": "no need to",
}
# Words that deny what follows them in their clause, like a negation: "I disagree with the advice
# to give up the bike" advises keeping it.
DENIALS = frozenset("disagree disagrees wrong myth false untrue".split())
# "keeps muscle from growing", "prevents growth": the direction after them is blocked, not taken.
PREVENTERS = frozenset("keep keeps kept stop stops stopped prevent prevents prevented".split())


def marked_clauses(text: str) -> list[tuple[list[str], bool]]:
    """The words of ``text`` grouped by clause (cut at punctuation and at because/but/while...),
    each marked True when it gives a reason or a concession (after because, since, although...)."""
    normal = quotes.normalise(text)
    for pattern, replacement in PHRASES:
        normal = pattern.sub(replacement, normal)
    out: list[tuple[list[str], bool]] = [([], False)]
    for token in _TOKEN.findall(normal):
        if token.strip() in ",;:()\u2014\u2013-" or token in CLAUSE_BREAKS:
            subordinate = token in SUBORDINATORS
            if out[-1][0]:
                out.append(([], subordinate))
            elif subordinate:
                out[-1] = (out[-1][0], True)
        else:
            out[-1][0].append(token)
    return [(c, sub) for c, sub in out if c]


def clauses(text: str) -> list[list[str]]:
    """The words of ``text`` grouped by clause (cut at punctuation and at because/but/while...)."""
    return [c for c, _ in marked_clauses(text)]


def _negation(token: str) -> bool:
    return token in NEGATIONS or token.endswith("n't") or token == "noneedto"


def _rejected_alternative(clause: list[str]) -> int:
    """Where "rather than" or "instead of" starts in a clause's words (its length if nowhere)."""
    for position, pair in enumerate(zip(clause, clause[1:], strict=False)):
        if pair in (("rather", "than"), ("instead", "of")):
            return position
    return len(clause)


def _direction(clause: list[str], position: int) -> tuple[str, int] | None:
    token = clause[position]
    found = DIRECTIONS.get(stem(token))
    if found is None:
        return None
    axis, sign = found
    if axis == "advice" and token in PREVENTERS and "from" in clause[position + 1 : position + 5]:
        return None  # "keeps muscle from growing": the verb blocks what follows, it advises nothing
    return axis, sign


def _flips(clause: list[str], position: int) -> list[str]:
    """The negations and denials that reverse the direction word at ``position``."""
    before = [t for t in clause[:position] if _negation(t) or t in DENIALS or t.startswith("prevent")]
    if "from" in clause[:position]:
        at = max(i for i, t in enumerate(clause[:position]) if t == "from")
        if any(t in PREVENTERS for t in clause[:at]):
            before.append("from")  # "keeps muscle from growing" is not growing
    return before


def polarity(text: str) -> Polarity:
    """Which way a text points on each axis, with the words that say so.

    In each clause the last direction word of an axis counts (the effect usually comes last:
    "less protein makes legs smaller"), flipped by each negation or denial before it in the
    same clause; the clauses then add up. What follows "rather than" or "instead of" is the
    alternative the clause rejects ("builds muscle rather than shrinking it"), so it sets no
    direction; what follows "keeps
    ... from" or "prevents" is blocked ("keeps muscle from growing" points down); a clause with
    "whether" reports a question and sets none; a clause giving a reason or conceding a point
    (after because, since, although...) counts half.
    """
    totals: dict[str, float] = defaultdict(float)
    cues: dict[str, list[str]] = {}
    about: dict[tuple[str, bool], set[str]] = {}
    for whole, subordinate in marked_clauses(text):
        clause = whole[: _rejected_alternative(whole)]
        if "whether" in clause:
            continue  # "asks whether the bike will give her bigger thighs" asserts nothing
        weight = 0.5 if subordinate else 1.0
        last: dict[str, tuple[int, int]] = {}
        for position in range(len(clause)):
            found = _direction(clause, position)
            if found:
                last[found[0]] = (position, found[1])
        for axis, (position, sign) in last.items():
            flips = _flips(clause, position)
            totals[axis] += (-sign if len(flips) % 2 else sign) * weight
            shown = [PHRASE_WORDS.get(w, w) for w in [*flips, clause[position]]]
            cues.setdefault(axis, []).append(" ".join(shown))
            # the rejected alternative is part of what the clause is about
            others = [w for i, w in enumerate(whole) if i != position and w not in DENIALS]
            about.setdefault((axis, subordinate), set()).update(content_stems(" ".join(others)))
    axes = {axis: 1 if total > 0 else -1 for axis, total in totals.items() if total}
    # what a direction is about: its main clauses' words, or the reason's when only a reason has one
    topics = {axis: frozenset(about.get((axis, False)) or about.get((axis, True), ())) for axis in axes}
    return Polarity(axes, {axis: tuple(cues[axis]) for axis in axes}, topics)


# The negations that deny a whole assertion ("without" only qualifies one).
TRUTH_NEGATIONS = frozenset("not no never cannot nor neither".split())


def negated_assertion(text: str, about: Iterable[str]) -> tuple[bool, str] | None:
    """Whether the clause of ``text`` that shares most content words with ``about`` is denied,
    and the words that deny it; None unless a clause shares four content words, half of its own."""
    wanted = set(about)
    best: tuple[int, list[str]] | None = None
    for clause in clauses(text):
        stems = set(content_stems(" ".join(clause)))
        shared = len(stems & wanted)
        if shared >= 4 and 2 * shared >= len(stems) and (best is None or shared > best[0]):
            best = (shared, clause)
    if best is None:
        return None
    flips = [t for t in best[1] if t in TRUTH_NEGATIONS or t.endswith("n't") or t in DENIALS]
    return len(flips) % 2 == 1, " ".join(flips)


_AMOUNT = re.compile(
    r"(\d+(?:\.\d+)?)(?:\s*(?:to|-|\u2013|or)\s*(\d+(?:\.\d+)?))?\s*%?\s*([a-z]+)"
    r"(?:\s+(?:per|a|an|each)\s+([a-z]+))?"
)
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen".split()
    )
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100, "thousand": 1000}
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b")
_AMOUNT_SKIP_UNITS = frozenset("to or and of the times".split())
# Words just before an amount that make it a bound: a floor ("at least 1.2 g", "never below 1.2 g")
# or a ceiling ("up to four cups", "no more than 400 mg").
_FLOOR = re.compile(r"(?:at least|no less than|not (?:go )?below|never (?:go )?below|over)\s+(?:about\s+)?$")
_CEILING = re.compile(
    r"(?:up to|no more than|at most|not (?:go )?above|never (?:go )?above|under)\s+(?:about\s+)?$"
)


@dataclass(frozen=True)
class Amount:
    unit: str
    per: str | None
    low: float
    high: float
    bound: Literal["floor", "ceiling"] | None
    words: str


def amounts(text: str) -> list[Amount]:
    """The numbers of a text with their unit; "300 to 500 calories" is a range, "at least 1.2 g"
    a floor and "up to four cups" (in digits) a ceiling."""
    out: list[Amount] = []
    normal = _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group()]), quotes.normalise(text))
    for match in _AMOUNT.finditer(normal):
        low, high, unit, per = match.groups()
        if unit in _AMOUNT_SKIP_UNITS:
            continue
        before = normal[max(0, match.start() - 30) : match.start()]
        bound = "floor" if _FLOOR.search(before) else "ceiling" if _CEILING.search(before) else None
        a, b = float(low), float(high or low)
        words_ = (before.split()[-2:] if bound else []) + [match.group().strip()]
        out.append(
            Amount(stem(unit), stem(per) if per else None, min(a, b), max(a, b), bound, " ".join(words_))
        )
    return out


def _conflict(a: Amount, b: Amount) -> bool:
    if a.bound == "floor":
        return b.high < a.low
    if a.bound == "ceiling":
        return b.low > a.high
    if b.bound:
        return _conflict(b, a)
    # two plain amounts conflict when far apart: more than half again outside each other's range
    return a.high * 1.5 < b.low or b.high * 1.5 < a.low


def same_amount(a: str, b: str) -> tuple[str, str] | None:
    """The first amounts of the same unit that ``a`` and ``b`` both give (within a fifth of each
    other, or one inside the other's range or near its bound), as the words of each; None if none."""
    for mine in amounts(a):
        for theirs in amounts(b):
            same_unit = mine.unit == theirs.unit and (
                mine.per == theirs.per or None in (mine.per, theirs.per)
            )
            near = max(mine.low, theirs.low) - min(mine.high, theirs.high) <= 0.2 * max(
                mine.high, theirs.high
            )
            if same_unit and near and not _conflict(mine, theirs) and not (mine.bound and theirs.bound):
                return mine.words, theirs.words
    return None


def different_amount(a: str, b: str) -> tuple[str, str] | None:
    """The first amounts of the same unit on which ``a`` and ``b`` disagree (one outside the other's
    bound, or two plain amounts far apart), as the words of each; None if none do."""
    for mine in amounts(a):
        for theirs in amounts(b):
            same_unit = mine.unit == theirs.unit and (
                mine.per == theirs.per or None in (mine.per, theirs.per)
            )
            if same_unit and mine.bound and theirs.bound:
                continue  # two bounds: whether they clash depends on more than the numbers
            if same_unit and _conflict(mine, theirs):
                return mine.words, theirs.words
    return None


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


def _shared_axes(a: Polarity, b: Polarity, common: frozenset[str] = frozenset()) -> list[str]:
    """The axes both texts point along about the same thing: the clauses holding the direction
    words share a content word that is not one the whole base is about ("keep your protein"
    and "should not go below" advise on different things)."""
    return [
        axis
        for axis in sorted(a.axes)
        if axis in b.axes and (not a.about or not b.about or (a.about[axis] & b.about[axis]) - common)
    ]


def opposite_axis(a: Polarity, b: Polarity, common: frozenset[str] = frozenset()) -> str | None:
    """The first shared axis on which the two point in opposite directions, or None."""
    return next((axis for axis in _shared_axes(a, b, common) if a.axes[axis] != b.axes[axis]), None)


def same_axis(a: Polarity, b: Polarity, common: frozenset[str] = frozenset()) -> str | None:
    """The first shared axis on which the two point the same way, or None."""
    return next((axis for axis in _shared_axes(a, b, common) if a.axes[axis] == b.axes[axis]), None)


Verdict = Literal["same", "opposite"]


def compare(
    sentence: str, statement: str, common: frozenset[str] = frozenset()
) -> tuple[Verdict | None, str]:
    """Whether a sentence and a claim's statement point the same way, opposite ways or neither
    that can be told, with the reason: the words of each that show it, quoted.

    In this order: a shared axis (size, advice) in opposite directions (unless the two only
    put the same comparison the other way round) or an amount of the same unit that the other
    contradicts is opposite; a shared axis in the same direction is the same; the clause they
    share denied in one and not in the other is opposite; anything else cannot be told.
    """
    mine, theirs = polarity(sentence), polarity(statement)
    axis = opposite_axis(mine, theirs, common)
    if axis and not comparison_swapped(sentence, statement):
        here, there = "; ".join(mine.cues[axis]), "; ".join(theirs.cues[axis])
        return "opposite", f"opposite on {axis}: '{here}' here, '{there}' in the claim"
    amount = different_amount(sentence, statement)
    if amount:
        return "opposite", f"a different amount: '{amount[0]}' here, '{amount[1]}' in the claim"
    agreeing = same_axis(mine, theirs, common)
    if agreeing:
        here, there = "; ".join(mine.cues[agreeing]), "; ".join(theirs.cues[agreeing])
        return "same", f"same way on {agreeing}: '{here}' here, '{there}' in the claim"
    equal = same_amount(sentence, statement)
    if equal:
        return "same", f"the same amount: '{equal[0]}' here, '{equal[1]}' in the claim"
    here_denied = negated_assertion(sentence, content_stems(statement))
    there_denied = negated_assertion(statement, content_stems(sentence))
    if here_denied and there_denied and here_denied[0] != there_denied[0]:
        words_here = here_denied[1] or "no negation"
        words_there = there_denied[1] or "no negation"
        why = f"one denies what the other asserts: '{words_here}' here, '{words_there}' in the claim"
        return "opposite", why
    return None, ""


def cue_score(sentence: str) -> tuple[int, list[str]]:
    """How much a sentence asserts or advises: one point per kind of cue, with the cues found."""
    tokens = words(sentence)
    phrased = [t for clause in clauses(sentence) for t in clause]  # "give up" read as one word
    found = []
    for name, table, among in (
        ("modal/advice", MODAL_OR_ADVICE | set(PHRASE_WORDS), phrased),
        ("causal verb", CAUSAL, tokens),
        ("comparative", COMPARATIVES, tokens),
        ("stance", STANCE_WORDS, tokens),
    ):
        hit = next((t for t in among if t in table), None)
        if hit:
            found.append(f"{name} '{PHRASE_WORDS.get(hit, hit)}'")
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


RelationKind = Literal["same", "opposes", "supports", "contradicts", "related"]


@dataclass(frozen=True)
class Relation:
    """One existing claim a draft may relate to, and how: ``same`` (add the quote as supporting
    evidence), ``opposes`` (add it as opposing evidence), ``supports`` or ``contradicts`` (a new
    claim linked to it), or ``related`` (similar wording, no direction to tell which)."""

    claim_id: str
    kind: RelationKind
    score: float
    reason: str


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
    relations: list[Relation] = field(default_factory=list)
    central: bool = False


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


def _negation_parity(text: str) -> bool:
    return sum(1 for w in words(text) if w in TRUTH_NEGATIONS or w.endswith("n't")) % 2 == 1


def relations_for(
    kb: KnowledgeBase,
    sentence: str,
    ranked: list[Similar],
    topic: str,
    same_bar: float = SAME_CLAIM_SIMILARITY,
    related_bar: float = RELATED_SIMILARITY,
    common: frozenset[str] = frozenset(),
) -> list[Relation]:
    """The claims of the whole base a sentence may relate to, best first, each with its relation.

    A claim is a candidate when its wording is close (``related_bar``) or when it has the
    draft's topic and some words in common (``TOPIC_SIMILARITY``). The relation's sign comes
    only from ``compare``: never "same" or "supports" between two texts pointing opposite
    ways, and never a sign without the words that show it, except "same" for a claim worded
    almost like the sentence with nothing pointing the other way.
    """
    out: list[Relation] = []
    for match in ranked:
        claim = kb.claims[match.claim_id]
        close = match.score >= related_bar
        if not close and not (claim.topic == topic and match.score >= TOPIC_SIMILARITY):
            continue
        verdict, why = compare(sentence, claim.statement, common)
        kind: RelationKind
        if not close and not (verdict and "amount" in why):
            # a claim only as near as its topic: direction words alone are too weak a sign
            kind, why = "related", "same topic, few words in common: too far apart to tell how they relate"
        elif verdict == "opposite":
            kind = "opposes" if match.score >= same_bar else "contradicts"
        elif verdict == "same":
            kind = "same" if match.score >= same_bar else "supports"
        elif match.score >= same_bar and _negation_parity(sentence) != _negation_parity(claim.statement):
            kind, why = "related", "worded alike, but only one of the two is negated; read both"
        elif match.score >= same_bar:
            kind, why = "same", "worded alike, and no words point the other way"
        else:
            kind, why = "related", "similar wording; no direction words to compare"
        out.append(Relation(claim.id, kind, match.score, f"similarity {match.score:.2f}; {why}"))
        if len(out) >= MAX_RELATIONS:
            break
    return out


def _suggest(relations: list[Relation]) -> tuple[Suggestion, str | None, str]:
    """The draft's headline suggestion from its relations: the quote into a claim that says the
    same or the opposite, else a new claim contradicting or supporting one, else a new claim."""
    for kinds, suggestion in (
        (("same", "opposes"), None),
        (("contradicts",), "contradicts"),
        (("supports", "related"), "new"),
    ):
        found = next((r for r in relations if r.kind in kinds), None)
        if found is not None:
            return suggestion or found.kind, found.claim_id, found.reason  # type: ignore[return-value]
    return "new", None, "no existing claim is close in wording or topic"


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
    # every sentence that is not a candidate, in text order, with why
    skipped_sentences: list[tuple[Sentence, str]] = field(default_factory=list)


# Words that say "here is my answer" in an article's opening.
ANSWER_MARKERS = (
    "short answer", "the answer", "in short", "in a word", "bottom line", "the truth is", "i think",
    "i believe", "my advice", "in my view", "the verdict",
)  # fmt: skip
CENTRAL_WINDOW = 8
GENERIC_TITLE_WORDS = frozenset(
    "bad good best better worst true truth really actually guide tips ways way why how what note notes "
    "coach question answer make makes need".split()
)


def central_sentence(title: str, found: list[Sentence]) -> Sentence | None:
    """The document's central assertion: of its first sentences that are not headings or
    questions, the one sharing most content words with the title (an answer marker such as
    "the short answer" counts one more; the earliest wins a tie), if it shares at least two."""
    title_stems = set(content_stems(title))
    best: tuple[float, Sentence] | None = None
    window = [s for s in found if skip_reason(s.text) not in ("heading", "question")][:CENTRAL_WINDOW]
    for sentence in window:
        if sentence.text.lower().startswith("by "):
            continue  # a byline
        shared = len(set(content_stems(sentence.text)) & title_stems)
        if shared < 2:
            continue
        normal = quotes.normalise(sentence.text)
        points = shared + (1 if any(m in normal for m in ANSWER_MARKERS) else 0)
        if best is None or points > best[0]:
            best = (points, sentence)
    return best[1] if best else None


def title_topic(title: str) -> str:
    """A topic for a base that has none yet: the first telling word of the document's title."""
    for word in words(title):
        if word not in STOPWORDS and word not in GENERIC_TITLE_WORDS and len(word) > 2 and not word.isdigit():
            return slugify(word) or FALLBACK_TOPIC
    return FALLBACK_TOPIC


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
    skipped_sentences: list[tuple[Sentence, str]] = []
    scored: list[tuple[float, Sentence, list[str], list[str]]] = []
    all_sentences = sentences(text)
    central = central_sentence(kb.sources[source_id].title, all_sentences)
    subject = set(content_stems(f"{kb.sources[source_id].title} {kb.config.title} {kb.config.description}"))

    def skip(sentence: Sentence, reason: str) -> None:
        skipped[reason.split(":")[0]] += 1
        skipped_sentences.append((sentence, reason))

    for sentence in all_sentences:
        reason = skip_reason(sentence.text)
        if reason is None and any(a < sentence.end and sentence.start < b for a, b in quoted):
            reason = "already quoted"
        if reason and sentence is not central:
            skip(sentence, reason)
            continue
        stems = set(content_stems(sentence.text))
        relevant = sorted(stems & index.vocabulary)
        cues, cue_names = cue_score(sentence.text)
        if sentence is central:
            cue_names = ["the document's central assertion (closest to its title)", *cue_names]
            scored.append((math.inf, sentence, relevant, cue_names))
            continue
        # a sentence full of the base's words needs no cue
        if index.vocabulary:
            if len(relevant) < 2 or not stems & index.core:
                skip(sentence, "off topic: fewer than two words of the base's claims")
            elif cues < 1 and len(relevant) < ASSERTION_WORDS:
                skip(sentence, "no assertion: no modal or advice verb, causal verb, comparative or number")
            else:
                scored.append((len(relevant) + cues, sentence, relevant, cue_names))
            continue
        # with no claims yet, the subject is the document's title (and the base's): a sentence
        # on it needs one cue, any other two
        on_subject = sorted(stems & subject)
        if cues >= 2 or (on_subject and cues >= 1):
            scored.append((len(on_subject) + cues, sentence, on_subject, cue_names))
        elif on_subject:
            skip(sentence, "no assertion: no modal or advice verb, causal verb, comparative or number")
        else:
            skip(sentence, "off topic, and fewer than two assertion cues: no word of the title")
    if len(scored) > limit:
        keep = sorted(scored, key=lambda s: (-s[0], s[1].start))[:limit]
        kept = {id(s[1]) for s in keep}
        for _, sentence, _, _ in scored:
            if id(sentence) not in kept:
                skip(sentence, f"over the limit: {limit} candidates with more cues came first")
        scored = sorted(keep, key=lambda s: s[1].start)
    skipped_sentences.sort(key=lambda item: item[0].start)
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
    fallback_topic = title_topic(kb.sources[source_id].title)
    for row, (_score, sentence, relevant, cue_names) in enumerate(scored):
        quote = sentence.text
        if quotes.find(quote, text) is None:  # cannot happen for a sentence cut from the text; be sure
            skip(sentence, "quote not found")
            continue
        vec = _vector(content_stems(sentence.text), index.idf)
        scores = {cid: index.similarity(sentence.text, index.claims[cid]) for cid in claim_ids}
        if semantic is not None:
            scores = {cid: (scores[cid] + float(semantic[row, j])) / 2 for j, cid in enumerate(claim_ids)}
        ranked = sorted(
            (Similar(cid, round(score, 2)) for cid, score in scores.items() if score > 0),
            key=lambda s: (-s.score, s.claim_id),
        )
        topics = sorted(
            ((round(cosine(vec, tv), 4), t) for t, tv in index.topics.items()), key=lambda x: (-x[0], x[1])
        )
        topic = topics[0][1] if topics and topics[0][0] > 0 else fallback_topic
        relations = relations_for(kb, sentence.text, ranked, topic, same_bar, related_bar, index.common)
        suggestion, target, reason = _suggest(relations)
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
                similar=ranked[:SIMILAR_COUNT],
                suggestion=suggestion,
                target=target,
                reason=reason,
                cues=cue_names,
                evidence_kind=kind,
                evidence_kind_reason=kind_reason,
                relevance=relevant,
                relations=relations,
                central=sentence is central,
            )
        )
    method = "mean of TF-IDF and embedding cosines" if semantic is not None else "TF-IDF cosine"
    return Extraction(source_id, candidates, len(all_sentences), skipped, method, skipped_sentences)


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


_RELATION_WORDS = {
    "same": "same claim",
    "opposes": "opposes it",
    "supports": "supports it",
    "contradicts": "contradicts it",
    "related": "related",
}


def _quoted_arg(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def draft_yaml(kb: KnowledgeBase, draft_path: Path, extraction: Extraction, candidate: Candidate) -> str:
    """One candidate as a claim file: the suggestion, the commands that act on it and the
    candidate claims as comments, then the claim."""
    number = extraction.candidates.index(candidate) + 1
    source_id = extraction.source_id
    source = kb.sources[source_id]
    draft = draft_path.relative_to(kb.root).as_posix()
    out = [schema.modeline(draft_path, kb.root, "claim")]
    out += _comment(
        f"Draft {number} of {len(extraction.candidates)} by kb extract, from source '{source_id}' "
        f"(sources/{source.text}, line {candidate.sentence.line})."
    )
    if candidate.central:
        out += _comment("The document's central assertion (the sentence closest to its title).")
    target = kb.claims[candidate.target] if candidate.target else None
    keep = f"kb accept {draft} --statement 'ONE CLEAR SENTENCE'"
    if candidate.suggestion in ("same", "opposes") and target is not None:
        stance = " --stance opposes" if candidate.suggestion == "opposes" else ""
        what = "same claim as" if candidate.suggestion == "same" else "opposes"
        out += _comment(f"Suggestion: {what} '{target.id}' ({candidate.reason}).")
        out += _comment(
            "  Add the quote to that claim (the draft is then deleted):\n"
            f"    kb accept {draft} --into {target.id}{stance}"
        )
    elif candidate.suggestion == "contradicts" and target is not None:
        out += _comment(f"Suggestion: a new claim that contradicts '{target.id}' ({candidate.reason}).")
        out += _comment(f"  Keep it (the contradicts line below links the two):\n    {keep}")
        out += _comment(
            f"  If it is that claim put the other way, add the quote to it instead:\n"
            f"    kb accept {draft} --into {target.id} --stance opposes"
        )
    else:
        out += _comment(f"Suggestion: new claim ({candidate.reason}).")
        out += _comment(f"  Keep it:\n    {keep}")
        if candidate.target is not None and target is not None:
            kind = next((r.kind for r in candidate.relations if r.claim_id == target.id), "related")
            if kind == "supports":
                out += _comment(f"  It supports '{target.id}': uncomment the supports line below.")
    if candidate.relations:
        out += _comment(
            f"Candidate claims in the base (same topic or similar wording; {extraction.similarity}, 0..1):"
        )
        for relation in candidate.relations:
            claim = kb.claims[relation.claim_id]
            out += _comment(
                f"  {_RELATION_WORDS[relation.kind]:<15} {relation.score:.2f}  {claim.id} ({claim.path}): "
                f"{claim.statement}"
            )
            out += _comment(f"      why: {relation.reason.split('; ', 1)[-1]}")
        out += _comment(
            "  To link a kept claim to another: kb link THIS-ID supports|contradicts OTHER-ID;\n"
            "  to add this quote to another claim: kb accept " + draft + " --into OTHER-ID [--stance opposes]"
        )
    out += _comment(
        f"Why this sentence: about {', '.join(candidate.relevance) or 'the topics'}; "
        f"{'; '.join(candidate.cues) or 'many of the base words'}."
    )
    out += _comment(
        f"Topic: the nearest existing topic by vocabulary (kb accept --topic to change it). "
        f"Kind: {candidate.evidence_kind_reason}."
    )
    out += [
        f"statement: {yaml_scalar(candidate.quote)}\n",
        f"topic: {yaml_scalar(candidate.topic)}\n",
        "evidence:\n",
        *evidence_lines(candidate, source_id),
    ]
    if candidate.suggestion == "contradicts" and candidate.target:
        out.append(f"contradicts: {yaml_list([candidate.target])}\n")
    elif any(r.kind == "supports" and r.claim_id == candidate.target for r in candidate.relations):
        out.append(f"# supports: {yaml_list([candidate.target])}\n")
    return "".join(out)


SKIPPED_FILE = "skipped.txt"


def skipped_text(extraction: Extraction) -> str:
    """Every sentence kb extract did not propose, one a line: its line number, why, the sentence."""
    lines = [
        f"# The {len(extraction.skipped_sentences)} sentences of source '{extraction.source_id}' that kb "
        "extract did not propose, with why:\n",
        "# line: reason: sentence. Add any of them by hand with kb add-evidence or kb new claim.\n",
    ]
    for sentence, reason in extraction.skipped_sentences:
        lines.append(f"{sentence.line}: {reason}: {sentence.text}\n")
    return "".join(lines)


def review_folder(kb_root: Path, source_id: str) -> Path:
    return kb_root / REVIEW_DIR / source_id


def plan_review(kb: KnowledgeBase, extraction: Extraction) -> NewFiles:
    folder = review_folder(kb.root, extraction.source_id)
    planned = NewFiles(id=extraction.source_id)
    for candidate in extraction.candidates:
        path = folder / f"{candidate.id}.yaml"
        planned.files[path] = draft_yaml(kb, path, extraction, candidate)
    planned.files[folder / SKIPPED_FILE] = skipped_text(extraction)
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
