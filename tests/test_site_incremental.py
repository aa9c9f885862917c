"""kb.site.incremental: a docs folder regenerated after edits, keeping the pages whose inputs did not
change, holds the same bytes as a docs folder generated from scratch."""

from __future__ import annotations

import dataclasses
import math
import random
import re
import sys
from pathlib import Path

import pytest
import yaml

from kb.load import load
from kb.site import build, incremental, pages, searchpages
from kb.weigh import Weights, compute

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import synth_kb  # noqa: E402


def _claim_files(root: Path) -> list[Path]:
    return sorted((root / "claims").rglob("*.yaml"))


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, value: dict) -> None:
    path.write_text(yaml.safe_dump(value, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _edit(root: Path, rng: random.Random) -> str:
    """One random edit of the kind authors make; returns what it was."""
    files = _claim_files(root)
    ids = [p.stem for p in files]
    path = rng.choice(files)
    claim = _read(path)
    kind = rng.choice(
        ["statement", "long statement", "stance", "drop quote", "relation+", "relation-", "add claim",
         "remove claim", "source title", "dispute name", "topic"]
    )  # fmt: skip
    if kind == "statement":
        claim["statement"] = "Edited " + claim["statement"] + " And more besides" * 6
    elif kind == "long statement":
        claim["statement"] = claim["statement"] + " And much more besides" * rng.randint(5, 40) + "."
    elif kind == "stance":
        ev = rng.choice(claim["evidence"])
        ev["stance"] = "opposes" if ev["stance"] == "supports" else "supports"
    elif kind == "drop quote" and len(claim["evidence"]) > 1:
        claim["evidence"].pop(rng.randrange(len(claim["evidence"])))
    elif kind == "relation+":
        other = rng.choice([i for i in ids if i != path.stem])
        relation = rng.choice(["supports", "contradicts"])
        taken = set(claim.get("supports", [])) | set(claim.get("contradicts", []))
        if other not in taken:
            claim.setdefault(relation, []).append(other)
    elif kind == "relation-":
        for relation in ("contradicts", "supports"):
            if claim.get(relation):
                claim[relation].pop(rng.randrange(len(claim[relation])))
                break
    elif kind == "add claim":
        new = dict(claim, statement="A new claim: " + claim["statement"])
        new["contradicts"] = [path.stem]
        new.pop("supports", None)
        _write(path.parent / f"claim-new-{rng.randrange(10**6):06d}.yaml", new)
        return kind
    elif kind == "remove claim":
        for other in files:
            if other == path:
                continue
            value = _read(other)
            changed = False
            for relation in ("supports", "contradicts"):
                if path.stem in value.get(relation, []):
                    value[relation] = [x for x in value[relation] if x != path.stem]
                    changed = True
            if changed:
                _write(other, value)
        path.unlink()
        return kind
    elif kind == "source title":
        source = rng.choice(sorted((root / "sources").glob("*.yaml")))
        value = _read(source)
        value["title"] = value["title"] + " (revised)"
        _write(source, value)
        return kind
    elif kind == "dispute name":
        config = _read(root / "kb.yaml")
        targets = claim.get("contradicts") or [rng.choice(ids)]
        config["disputes"] = [
            {"question": f"Which is it, {rng.randrange(1000)}?", "claims": [path.stem, targets[0]]}
        ]
        _write(root / "kb.yaml", config)
        return kind
    elif kind == "topic":
        claim["topic"] = rng.choice(["running", "cycling", "a new topic"])
    _write(path, claim)
    return kind


def _generate(
    root: Path, cache: Path | None, handwritten: frozenset[str], limit: int
) -> dict[str, str | None]:
    kb, problems = load(root)
    assert kb is not None, problems[:3]
    weights = compute(kb)
    data = pages.site_data(kb, weights, handwritten=handwritten, page_limit=limit)
    if cache is None:
        return dict(pages.generate_all(data))
    return _generate_into(cache, data)


def _generate_into(cache: Path, data: pages.SiteData) -> dict[str, str | None]:
    """What a build does: the docs folder brought up to date, keeping what the manifest vouches for."""
    reuse = incremental.Reuse.open(cache)
    docs = build.DocsFolder(cache / "docs")
    files: dict[str, str | None] = {}

    def sink(path: str, text: str | None) -> None:
        files[path] = text
        docs.put(path, text)

    pages.generate(data, sink, reuse=reuse)
    docs.finish()
    reuse.save(cache)
    return files


def _docs(cache: Path) -> dict[str, str]:
    folder = cache / "docs"
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(("seed", "limit"), [(1, pages.PAGE_LIMIT), (2, 8_000), (3, 12_000)])
def test_random_edits_give_the_docs_folder_of_a_cold_generation(
    tmp_path: Path, seed: int, limit: int
) -> None:
    root = tmp_path / "kb"
    synth_kb.write(root, 40, 8, 100, seed, dense=True)
    cache = tmp_path / "cache"
    rng = random.Random(seed)
    handwritten: frozenset[str] = frozenset()
    _generate(root, cache, handwritten, limit)
    kept_some = False
    for step in range(14):
        if step == 7:
            handwritten = frozenset({pages.WEIGHTING})
            what = "weighting page"
        else:
            before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
            what = _edit(root, rng)
            kb, _ = load(root)
            if kb is None:  # an edit that leaves the base invalid: undo it
                for p in root.rglob("*"):
                    if p.is_file() and p not in before:
                        p.unlink()
                for p, data in before.items():
                    p.write_bytes(data)
                continue
        reuse_files = _generate(root, cache, handwritten, limit)
        kept_some |= any(v is None for v in reuse_files.values())
        cold = _generate(root, None, handwritten, limit)
        docs = _docs(cache)
        assert sorted(docs) == sorted(cold), what
        different = [name for name in cold if docs[name] != cold[name]]
        assert different == [], (step, what, different)
    assert kept_some


def test_a_build_keeps_the_pages_whose_inputs_did_not_change(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    synth_kb.write(root, 30, 6, 60, 4, dense=True)
    cache = tmp_path / "cache"
    first = _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    assert all(v is not None for v in first.values())
    mtimes = {name: (cache / "docs" / name).stat().st_mtime_ns for name in first}
    second = _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    kept = {name for name, v in second.items() if v is None}
    claims = {pages.claim_page(p.stem) for p in _claim_files(root)}
    assert claims <= kept
    assert {name: (cache / "docs" / name).stat().st_mtime_ns for name in kept} == {n: mtimes[n] for n in kept}

    # a docs file changed behind kb's back is generated again
    name = sorted(claims)[0]
    (cache / "docs" / name).write_text("changed", encoding="utf-8")
    third = _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    assert third[name] is not None and (cache / "docs" / name).read_text(encoding="utf-8") != "changed"

    # no manifest (none written yet, or removed): everything is generated
    (cache / incremental.MANIFEST).unlink()
    fourth = _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    assert all(v is not None for v in fourth.values())


@pytest.mark.parametrize(("stop_after", "undo"), [(5, False), (40, True), (120, False), (120, True)])
def test_a_build_stopped_midway_leaves_a_manifest_the_next_build_can_trust(
    tmp_path: Path, stop_after: int, undo: bool
) -> None:
    """A build stopped while it writes the docs folder (Ctrl-C in kb serve) leaves the last whole build's
    manifest: the files it wrote or removed no longer have the status recorded there, so their pages are
    made again, the others are kept, and the folder is a cold generation's. Also when the edits are undone
    before the next build (its keys are then the manifest's, for pages whose files the stopped build
    changed)."""
    root = tmp_path / "kb"
    synth_kb.write(root, 40, 8, 100, 5, dense=True)
    cache = tmp_path / "cache"
    _generate(root, cache, frozenset(), 12_000)
    original = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    rng = random.Random(stop_after)
    for _ in range(3):
        _edit(root, rng)
    kb, problems = load(root)
    assert kb is not None, problems[:3]
    data = pages.site_data(kb, compute(kb), handwritten=frozenset(), page_limit=12_000)
    reuse = incremental.Reuse.open(cache)
    docs = build.DocsFolder(cache / "docs")
    written = []

    def stopping(path: str, text: str | None) -> None:
        docs.put(path, text)
        if text is not None:
            written.append(path)
        if len(written) == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pages.generate(data, stopping, reuse=reuse)
    assert (cache / incremental.MANIFEST).is_file()
    if undo:
        for p in root.rglob("*"):
            if p.is_file() and p not in original:
                p.unlink()
        for p, content in original.items():
            p.write_bytes(content)
    after = _generate(root, cache, frozenset(), 12_000)
    assert any(v is None for v in after.values())
    cold = _generate(root, None, frozenset(), 12_000)
    docs_now = _docs(cache)
    assert sorted(docs_now) == sorted(cold)
    assert [name for name in cold if docs_now[name] != cold[name]] == []


def _nudged(weights: Weights, steps: int = 1) -> Weights:
    """The weights with every strength and relation effect moved ``steps`` units in the last place: what
    an edit elsewhere does to them (they are a fixed point, iterated), without changing what is shown."""

    def nudge(value: float) -> float:
        for _ in range(steps):
            value = math.nextafter(value, math.inf)
        return value

    for w in weights.claims.values():
        w.strength = nudge(w.strength)
        for r in w.relations:
            r.effect = nudge(r.effect)
    disputes = tuple(
        dataclasses.replace(
            d, positions=tuple(dataclasses.replace(p, strength=nudge(p.strength)) for p in d.positions)
        )
        for d in weights.disputes
    )
    return dataclasses.replace(weights, disputes=disputes)


def test_strengths_moved_in_their_last_bits_keep_every_page(tmp_path: Path) -> None:
    """Pages are keyed on the strengths as shown: after an edit, most strengths in a knowledge base move in
    their last bits and show the same, and their pages are not made again. A strength that shows
    differently makes its pages again, and the folder is the one a cold generation makes."""
    root = tmp_path / "kb"
    synth_kb.write(root, 60, 6, 120, 4, dense=True)
    kb, _ = load(root)
    assert kb is not None
    cache = tmp_path / "cache"
    _generate_into(cache, pages.site_data(kb, compute(kb)))
    weights = _nudged(compute(kb), steps=3)
    computed = compute(kb).claims
    assert all(w.strength != computed[cid].strength for cid, w in weights.claims.items())
    files = _generate_into(cache, pages.site_data(kb, weights))
    keyed = {pages.claim_page(cid) for cid in kb.claims} | {pages.graph_picture(cid) for cid in kb.claims}
    keyed |= {pages.source_page(sid) for sid in kb.sources}
    assert keyed <= set(files)
    assert [name for name in sorted(keyed) if files[name] is not None] == []

    # one claim now shows a different strength: its page and every page that shows it are made again
    changed = sorted(kb.claims)[0]
    weights.claims[changed].strength = 0.01 if weights.claims[changed].strength > 0.5 else 0.99
    files = _generate_into(cache, pages.site_data(kb, weights))
    assert files[pages.claim_page(changed)] is not None and files[pages.graph_picture(changed)] is not None
    made = {name for name in keyed if files[name] is not None}
    assert len(made) < len(keyed) // 2
    assert _docs(cache) == pages.generate_all(pages.site_data(kb, weights))


def test_a_stance_flip_makes_again_only_the_claim_pages_and_pictures_it_changes(tmp_path: Path) -> None:
    """One quote's stance flipped moves the strengths of many claims in their last bits and the edited
    claim up or down its disputes; the claim pages and pictures made again are those whose text changes
    (before, with keys on the floats and on the positions' places, 291 of these 300 claims' pages)."""
    root = tmp_path / "kb"
    synth_kb.write(root, 300, 15, 600, 3, dense=True)
    cache = tmp_path / "cache"
    _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    before = _docs(cache)
    path = _claim_files(root)[0]
    claim = _read(path)
    evidence = claim["evidence"][0]
    evidence["stance"] = "opposes" if evidence["stance"] == "supports" else "supports"
    _write(path, claim)
    files = _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    after = _docs(cache)
    drawn = [name for name in files if name.startswith("claims/") or name.endswith(".svg")]
    made = [name for name in drawn if files[name] is not None]
    assert pages.claim_page(path.stem) in made
    assert [name for name in made if before[name] == after[name]] == []
    assert len(made) <= len(drawn) // 10, (len(made), len(drawn))


def test_the_search_index_lists_the_parts_of_kept_pages(tmp_path: Path) -> None:
    """A kept page's later parts are pages of their own in the search index: their text is read back."""
    root = tmp_path / "kb"
    synth_kb.write(root, 30, 3, 60, 5, dense=True)
    cache = tmp_path / "cache"
    kb, _ = load(root)
    assert kb is not None
    weights = compute(kb)
    results = []
    for _ in range(2):
        files = _generate_into(cache, pages.site_data(kb, weights, page_limit=6_000))
        entries = searchpages.Entries(kb, False)
        for name, text in files.items():
            entries.add(name, text)
        results.append(build.search_files(kb, weights, False, entries, {}))
    kept_parts = [
        name
        for sid in kb.sources
        if files[pages.source_page(sid)] is None
        for name in files
        if name.startswith(pages.source_page(sid)[: -len(".md")] + "-")
    ]
    assert kept_parts and all(files[name] for name in kept_parts)
    assert results[0] == results[1]
    with pytest.raises(ValueError, match="needs the text"):
        entries.add(pages.REPORT, None)
    assert results[0] == results[1]


def test_a_statement_edit_rewrites_only_the_parts_of_long_pages_that_show_it(tmp_path: Path) -> None:
    """The long lists are cut where their text says (kb.site.paging), so after a statement edit the parts
    are the same files and only those showing the statement change (and a first part's index of parts).
    Cut by a running count of bytes, as they were, the parts after the statement changed too."""
    root = tmp_path / "kb"
    synth_kb.write(root, 150, 15, 300, 6, dense=True)
    cache = tmp_path / "cache"
    limit = 60_000
    _generate(root, cache, frozenset(), limit)
    before = _docs(cache)
    path = _claim_files(root)[75]
    claim = _read(path)
    claim["statement"] = "Edited " + claim["statement"] + " And more besides" * 6
    _write(path, claim)
    _generate(root, cache, frozenset(), limit)
    after = _docs(cache)
    assert sorted(after) == sorted(before)
    long = [
        name
        for name in before
        if re.fullmatch(r"(contradictions|report|claims|agreement)(-[0-9a-f]{8}(-\d+)?)?\.md", name)
    ]
    changed = [name for name in long if before[name] != after[name]]
    showing = [name for name in long if "Edited " in after[name]]
    assert len(long) > 20 and showing
    # the first part of a page holds the index of its parts, whose labels may quote the statement
    assert set(changed) - set(showing) <= {"contradictions.md", "report.md", "claims.md", "agreement.md"}
    assert len(changed) <= len(long) // 4, (len(changed), len(long))


def test_the_disagreements_page_makes_again_only_the_sections_an_edit_changes(
    tmp_path: Path, monkeypatch
) -> None:
    """Each dispute's block and each clash's section on the Disagreements page is kept under a key of what it
    shows (kb.site.incremental.Reuse.section): a build with nothing changed makes none of them again, a
    statement edit only those that show the claim. (That the page is still a cold build's, the random
    edits above check.)"""
    root = tmp_path / "kb"
    synth_kb.write(root, 60, 8, 150, 4, dense=True)
    cache = tmp_path / "cache"
    made: list[str] = []
    real_clash, real_positions = pages.clash_section, pages.positions_list

    def clash_section(data, here, c):
        made.append(f"clash {c.claim_a} {c.claim_b}")
        return real_clash(data, here, c)

    def positions_list(data, here, d, *args):
        if here == pages.CONTRADICTIONS:
            made.append(f"dispute {d.id}")
        return real_positions(data, here, d, *args)

    monkeypatch.setattr(pages, "clash_section", clash_section)
    monkeypatch.setattr(pages, "positions_list", positions_list)
    _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    every = list(made)
    assert any(m.startswith("clash") for m in every) and any(m.startswith("dispute") for m in every)
    made.clear()
    _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    assert made == []
    path = next(p for p in _claim_files(root) if any(p.stem in m.split() for m in every))
    claim = _read(path)
    claim["statement"] = "Edited " + claim["statement"]
    _write(path, claim)
    _generate(root, cache, frozenset(), pages.PAGE_LIMIT)
    assert made and len(made) < len(every) // 2
    assert all(path.stem in m.split() or m.startswith("dispute") for m in made)


def test_clash_anchors_and_links_stay_put_when_an_edit_renumbers_the_clashes(tmp_path: Path) -> None:
    """A clash's anchor is made of its claims' ids, and claim and source pages link to it by what it is: an
    edit that adds or removes a clash earlier in the list (which renumbered every later one, and with it
    every page linking to one) leaves the other clashes' anchors, links and claim pages as they were."""
    root = tmp_path / "kb"
    synth_kb.write(root, 150, 15, 300, 6, dense=True)

    def data() -> pages.SiteData:
        kb, problems = load(root)
        assert kb is not None, problems[:3]
        return pages.site_data(kb, compute(kb))

    before = data()
    for path in _claim_files(root):  # the first claim whose edit adds or removes a clash before others
        saved = path.read_bytes()
        claim = _read(path)
        claim["evidence"][0]["stance"] = (
            "opposes" if claim["evidence"][0]["stance"] == "supports" else "supports"
        )
        _write(path, claim)
        after = data()
        old = [before.anchor(c) for c in before.contradictions]
        new = [after.anchor(c) for c in after.contradictions]
        if set(old) != set(new) and old[-1] == new[-1]:
            break
        path.write_bytes(saved)
    else:
        pytest.fail("no edit adds or removes a clash")
    edited = path.stem
    moved = [a for a in set(old) & set(new) if old.index(a) != new.index(a)]
    assert moved  # numbered, these clashes had new numbers
    for anchor in moved:
        assert anchor.startswith("c-") and anchor[2:].split("--")[0] in before.kb.claims
    # every page linking to a clash that did not change links to it as before; claim pages that show
    # nothing that changed are the same Markdown
    same_pages = 0
    for cid in before.kb.claims:
        if cid == edited or not any(a in moved for a in map(before.anchor, before.by_claim.get(cid, []))):
            continue
        here = pages.claim_page(cid)
        if {before.anchor(c) for c in before.by_claim[cid]} == {after.anchor(c) for c in after.by_claim[cid]}:
            assert pages.claim_clashes_line(before, here, cid) == pages.claim_clashes_line(after, here, cid)
        same_pages += pages.claim_markdown(before, before.kb.claims[cid]) == pages.claim_markdown(
            after, after.kb.claims[cid]
        )
    assert same_pages  # the clashes they link to had new numbers, their pages are the same
    before_sections = pages.contradictions_page(before)
    after_sections = pages.contradictions_page(after)
    for anchor in moved:
        assert f"{{: #{anchor} }}" in before_sections and f"{{: #{anchor} }}" in after_sections
    assert not re.search(r"^### \d+\. ", after_sections, re.MULTILINE)  # no running numbers in headings


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("opposed", "x", "x"),
        ("contradicting", "x", "y"),
        ("contradicting", "y", "x"),
        ("opposed", "x--y", "x--y"),
        ("opposed", "x-", "x-"),
        ("contradicting", "x.y", "z"),
        ("contradicting", "a" * 200, "b"),
        ("opposed", "weird id/é", "weird id/é"),
    ],
)
def test_a_clash_anchor_is_a_valid_id_made_of_its_claims_alone(kind: str, a: str, b: str) -> None:
    from kb.contradictions import CONTRADICTING_CLAIMS, OPPOSED

    real = OPPOSED if kind == "opposed" else CONTRADICTING_CLAIMS
    anchor = pages.clash_anchor(real, a, b)
    assert anchor == pages.clash_anchor(real, b, a)  # the pair in either order
    assert re.fullmatch(r"c-[A-Za-z0-9._-]+", anchor) and len(anchor) <= pages.MAX_ANCHOR
    # two different clashes never share an anchor, whatever their ids
    others = [
        (OPPOSED, i, i) for i in ("x", "y", "x--y", "x-", "x.y", "z", "a" * 200, "weird id/é", "x--y--z")
    ] + [
        (CONTRADICTING_CLAIMS, i, j)
        for i, j in (("x", "y"), ("x", "y--z"), ("x--y", "z"), ("x.y", "z"), ("a" * 200, "b"), ("x-", "y"))
    ]
    for other in others:
        if other[0] == real and sorted(other[1:]) == sorted((a, b)):
            continue
        if other[0] == OPPOSED and real == OPPOSED and other[1] == a:
            continue
        assert pages.clash_anchor(*other) != anchor, other


def test_key_digests_tell_apart_what_a_page_could_show_differently() -> None:
    """Values that print differently get different digests, records by their repr, texts orjson
    refuses (a lone surrogate) included; the same value, the same digest."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Record:
        value: float

    values = [(1,), (1.0,), (True,), (None,), ("None",), ("1",), (Record(0.1),), (Record(0.1 + 1e-16),),
              ("a\udc80",), ("a",), (("a", "b"),), (("a",), "b")]  # fmt: skip
    digests = [incremental._digest(v) for v in values]
    assert len(set(digests)) == len(values)
    assert digests == [incremental._digest(v) for v in values]


def test_records_are_written_with_every_field_as_their_repr_has_it() -> None:
    """kb.site.incremental.records writes what a record's repr shows, without the dataclass machinery:
    every field (one added later too), floats to the last bit, and the class."""
    from dataclasses import dataclass, fields

    from kb.weigh import EvidenceWeight

    @dataclass(frozen=True)
    class One:
        value: float

    @dataclass(frozen=True)
    class Other:
        value: float

    weight = EvidenceWeight(
        "c", 0, "s", "supports", 0.3, "author", 0.5, "study", 0.6, 1.0, 0.5, (("s", "supports", 0.3),)
    )
    text = incremental.records([weight])
    for f in fields(EvidenceWeight):
        assert repr(getattr(weight, f.name)) in text
    variants = [One(0.1), One(0.1 + 1e-16), Other(0.1), One(1), One(1.0)]
    assert len({incremental.records([v]) for v in variants}) == len(variants)
    assert incremental.records([]) != incremental.records([One(0.1)])
    assert incremental.records([One(0.1)]) == incremental.records([One(0.1)])


def test_what_a_build_of_another_site_kept_is_let_go_unread(tmp_path: Path) -> None:
    """After kb's code or the site's settings changed (another site fingerprint, in every key) nothing the
    last build kept can serve: its pages' records are dropped and its sections are not read."""
    cache = tmp_path / "cache"
    (cache / "docs").mkdir(parents=True)
    (cache / "docs" / "a.md").write_text("# A\n", encoding="utf-8")
    reuse = incremental.Reuse.open(cache)
    reuse.for_site("site-1")
    reuse.record("a.md", "key-a", ["a.md"], {})
    assert reuse.section("s", lambda: "section text") == "section text"
    reuse.save(cache)

    same = incremental.Reuse.open(cache)
    same.for_site("site-1")
    assert same.keep("a.md", "key-a") is not None
    assert same.section("s", lambda: "made again") == "section text"
    same.save(cache)

    other = incremental.Reuse.open(cache)
    assert other.previous  # read, then let go
    other.for_site("site-2")
    assert other.previous == {} and other.previous_sections == {}
    assert other.keep("a.md", "key-a") is None
    assert other.section("s", lambda: "made again") == "made again"
