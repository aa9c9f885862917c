"""The weights of an unchanged knowledge base, kept from the last batch command that computed them.

``kb export``, ``kb report`` and ``kb contradictions`` each weigh the whole knowledge base
(:func:`kb.weigh.compute`: strengths, then every dispute's verdict), which at 10,000 dense claims
is the larger half of their work. Run one after another on the same files, they would compute the
same numbers each time. :func:`compute` keeps the result in ``<kb>/.kb-cache/weights.json`` and
gives it back while nothing it depends on has changed:

- it is keyed by a digest of everything :func:`kb.weigh.compute` reads (every field of every claim
  and source, kb.yaml's settings, named disputes and title) and of kb's own code, so an edited
  claim, a new kb or a new weighting setting misses, and the weights are computed again; but
  when only claims' statements changed (the key without them, its ``shape``, is the same) the
  kept weights are taken with their words written again (:func:`kb.disputes.restated`), since no
  number depends on a statement's words;
- it is plain JSON (never pickle: a knowledge-base folder is data), sealed with the key of the load
  cache (:mod:`kb.cache`, private to the user): a file that was edited, damaged or came with a
  copied folder does not verify and is ignored, as is one that does not decode to weights;
- numbers are written as JSON numbers, which give back the same floats to the bit.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from kb.cache import CACHE_DIR, read_sealed_json, seal
from kb.disputes import Dispute, Position, Verdict
from kb.model import KnowledgeBase
from kb.output import write_unsynced
from kb.weigh import (
    ClaimWeight,
    EvidenceWeight,
    RelationEffect,
    Reliability,
    Settings,
    TopicSummary,
    Voice,
    Weights,
)
from kb.weigh import compute as compute_weights

FORMAT = 2
FILE = "weights.json"


@functools.cache
def _code() -> str:
    """A hash of kb's own code: weights kept by another kb are computed again."""
    digest = hashlib.sha256(f"{FORMAT}\0".encode())
    for file in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(file.read_bytes())
    return digest.hexdigest()


class Keys(NamedTuple):
    """What the kept weights are looked up by."""

    shape: str  # everything the weights are computed from but the claims' statements, and kb's code
    full: str  # the shape and the statements: the weights of exactly these files


def keys(kb: KnowledgeBase) -> Keys:
    """The digests of everything the weights of ``kb`` are computed from, and of kb's code: with the
    claims' statements (``full``) and without them (``shape``: no number depends on a statement's words,
    so weights kept under the same shape are this base's once their words are written again)."""
    import orjson

    config = kb.config
    content = [
        config.title,
        config.description,
        config.weighting,
        [[d.question, d.claims, d.id] for d in config.disputes],
        [
            [s.id, s.path, s.title, s.author, s.kind, s.url, s.published, s.text, s.reliability,
             s.reliability_note]
            for s in kb.sources.values()
        ],
        [
            [
                c.id, c.path, c.topic, c.tags, c.supports, c.contradicts,
                [[e.source, e.stance, e.kind, e.quote, e.speaker] for e in c.evidence],
            ]
            for c in kb.claims.values()
        ],
    ]  # fmt: skip
    # a value of kb.yaml's weighting orjson has no type for (it is then reported as an error, but
    # the digest comes first) is written as its repr
    data = orjson.dumps(content, default=repr, option=orjson.OPT_NON_STR_KEYS)
    shape = hashlib.sha256(_code().encode() + b"\0" + data).hexdigest()
    statements = orjson.dumps([c.statement for c in kb.claims.values()])
    return Keys(shape, hashlib.sha256(f"{shape}\0".encode() + statements).hexdigest())


# --- weights as JSON and back: lists of fields in a fixed order, tuples where the classes hold them ---


def _voices(voices: tuple[Voice, ...]) -> list[list[str]]:
    return [[v.source, v.speaker, v.role] for v in voices]


def _position(p: Position) -> list[Any]:
    return [
        p.claim, p.statement, p.answer, p.strength, p.consensus, p.sources_for, p.sources_against,
        _voices(p.voices_for), _voices(p.voices_against),
    ]  # fmt: skip


def encode(weights: Weights) -> dict[str, Any]:
    """The weights as JSON-ready data (:func:`decode` gives them back)."""
    claims = []
    for w in weights.claims.values():
        siblings = w.evidence[0].siblings if w.evidence else ()
        claims.append(
            [
                w.id, w.base, w.strength, w.consensus, w.support, w.opposition, w.sources_for,
                w.sources_against,
                [[e.source, e.stance, e.weight, e.speaker_role, e.reliability, e.kind, e.kind_factor,
                  e.speaker_factor] for e in w.evidence],
                [[r.claim, r.type, r.passed, r.effect, r.shared_sources] for r in w.relations],
                _voices(w.voices_for), _voices(w.voices_against),
                [list(t) for t in siblings],
                all(e.siblings is siblings and e.claim_base == w.base for e in w.evidence),
            ]
        )  # fmt: skip
    disputes = [
        [
            d.id, d.question, d.named, d.topic, d.kind, [_position(p) for p in d.positions], d.rivals,
            [d.verdict.label, d.verdict.leader, d.verdict.margin, d.verdict.runner_up, d.verdict.robust,
             d.verdict.hinges_on],
            d.between_sources,
        ]
        for d in weights.disputes
    ]  # fmt: skip
    s = weights.settings
    return {
        "settings": [s.source_kind, s.evidence_kind, s.speaker, s.author_bonus, s.relation_weight],
        "reliability": [
            [k, r.value, r.prior, r.overridden, r.explanation] for k, r in weights.reliability.items()
        ],
        "claims": claims,
        "topics": [
            [t.topic, t.claims, t.consensus_counts, t.sources, t.verdict, t.disputes]
            for t in weights.topics.values()
        ],
        "iterations": weights.iterations,
        "converged": weights.converged,
        "disputes": disputes,
    }


def _voices_of(rows: list[list[str]]) -> tuple[Voice, ...]:
    return tuple(Voice(source, speaker, role) for source, speaker, role in rows)


def decode(data: dict[str, Any]) -> Weights:
    """The weights :func:`encode` wrote; raises (KeyError, TypeError, ValueError...) on anything else."""
    source_kind, evidence_kind, speaker, author_bonus, relation_weight = data["settings"]
    settings = Settings(dict(source_kind), dict(evidence_kind), dict(speaker), author_bonus, relation_weight)
    reliability = {
        k: Reliability(value, prior, overridden, text)
        for k, value, prior, overridden, text in data["reliability"]
    }
    claims: dict[str, ClaimWeight] = {}
    for row in data["claims"]:
        (cid, base, strength, consensus, support, opposition, sources_for, sources_against, evidence,
         relations, voices_for, voices_against, siblings, plain) = row  # fmt: skip
        if plain is not True:
            raise ValueError("evidence weighed apart from its claim")  # never written by compute
        triples = tuple((source, stance, weight) for source, stance, weight in siblings)
        claims[cid] = ClaimWeight(
            cid, base, strength, consensus, support, opposition, tuple(sources_for), tuple(sources_against),
            tuple(
                EvidenceWeight(cid, index, *fields, claim_base=base, siblings=triples)
                for index, fields in enumerate(evidence)
            ),
            tuple(
                RelationEffect(claim, kind, passed, effect, tuple(shared))
                for claim, kind, passed, effect, shared in relations
            ),
            _voices_of(voices_for),
            _voices_of(voices_against),
        )  # fmt: skip
    disputes = tuple(
        Dispute(
            id_, question, named, topic, kind,
            tuple(
                Position(claim, statement, answer, strength, consensus, tuple(sf), tuple(sa), _voices_of(vf),
                         _voices_of(va))
                for claim, statement, answer, strength, consensus, sf, sa, vf, va in positions
            ),
            tuple(tuple(r) for r in rivals),
            Verdict(label, leader, margin, runner_up, robust, tuple(hinges_on)),
            between,
        )
        for id_, question, named, topic, kind, positions, rivals,
        (label, leader, margin, runner_up, robust, hinges_on), between in data["disputes"]
    )  # fmt: skip
    topics = {
        topic: TopicSummary(topic, tuple(ids), dict(counts), tuple(sources), verdict, tuple(ds))
        for topic, ids, counts, sources, verdict, ds in data["topics"]
    }
    return Weights(settings, reliability, claims, topics, data["iterations"], data["converged"], disputes)


def _file(kb: KnowledgeBase) -> Path:
    return Path(kb.root) / CACHE_DIR / FILE


def cached(kb: KnowledgeBase, digests: Keys | None = None) -> Weights | None:
    """The weights kept for ``kb`` as it is, or None: none kept, kept for other files or another kb,
    or a file kb cannot vouch for."""
    found = _lookup(kb, digests or keys(kb))
    return found[0] if found is not None and found[1] else None


def _lookup(kb: KnowledgeBase, wanted: Keys) -> tuple[Weights, bool] | None:
    """The kept weights and whether they were kept for these very files (else for files that differ
    from them in claims' statements only), or None."""
    # kept weights begin with their format and keys (``keep``): those of other files are not read further
    stored = read_sealed_json(_file(kb), Path(kb.root), _head(wanted.shape))
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("shape") != wanted.shape:
        return None
    exact = stored.get("key") == wanted.full
    try:
        return decode(stored["weights"]), exact
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _head(shape: str) -> bytes:
    """How the data of the weights kept under ``shape`` begins (orjson writes keys in their order)."""
    return b'{"format":' + str(FORMAT).encode() + b',"shape":"' + shape.encode("ascii") + b'",'


def keep(kb: KnowledgeBase, weights: Weights, digests: Keys | None = None) -> None:
    """Keep ``weights`` for ``kb`` as it is (a folder that cannot be written just goes uncached)."""
    import orjson

    digests = digests or keys(kb)
    try:
        data = orjson.dumps(
            {"format": FORMAT, "shape": digests.shape, "key": digests.full, "weights": encode(weights)}
        )
    except TypeError:  # something orjson cannot write: left uncached
        return
    with contextlib.suppress(OSError):
        write_unsynced(_file(kb), seal(data))  # not synced: a file lost or cut short is computed again


def compute(kb: KnowledgeBase, *, disputes: bool = True) -> Weights:
    """:func:`kb.weigh.compute` of ``kb``, from the weights kept for it when nothing changed since;
    computed (and kept, when ``disputes``) otherwise. ``disputes=False``: the claims' weights are
    enough (as for :func:`kb.weigh.compute`); kept full weights serve them too."""
    weights, keep_them = compute_unkept(kb, disputes=disputes)
    if keep_them is not None:
        keep_them()
    return weights


def compute_unkept(kb: KnowledgeBase, *, disputes: bool = True) -> tuple[Weights, Callable[[], None] | None]:
    """:func:`compute`, but weights not taken as kept are not kept yet: with them comes the call that
    keeps them (None when taken from the cache, or computed without disputes), for the caller to make
    when it has a moment (kb build: in the child that makes the data files).

    Weights kept for files that differ from these in claims' statements only are taken with their
    words written again (:func:`kb.disputes.restated`: the same weights, without weighing)."""
    from kb.disputes import restated

    digests = keys(kb)
    found = _lookup(kb, digests)
    if found is not None:
        kept, exact = found
        if exact:
            return kept, None
        weights = restated(kb, kept)
        return weights, functools.partial(keep, kb, weights, digests)
    weights = compute_weights(kb, disputes=disputes)
    return weights, functools.partial(keep, kb, weights, digests) if disputes else None
