"""kb serve's preview (kb.site.preview): the edited claims' pages are in the served site before the
rebuild, as the rebuild renders them, and the rebuild still ends with a cold build's bytes."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from kb.load import load_valid
from kb.site import build as site_build
from kb.site import preview as preview_module
from kb.site.preview import Preview
from kb.site.serve import Loaded, preview_edit, rebuild
from kb.weigh import compute
from tests.site_helpers import copy_fixture, digest_tree


@pytest.fixture
def kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return copy_fixture(tmp_path)


def _claim(kb: Path, name: str) -> Path:
    return next((kb / "claims").rglob(f"{name}.yaml"))


def _edit(kb: Path, name: str, old: str, new: str) -> None:
    path = _claim(kb, name)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


class Seen:
    """What the served site holds when the preview says its pages are in place."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.calls = 0
        self.site: dict[str, bytes] = {}

    def __call__(self) -> None:
        self.calls += 1
        self.site = {
            p.relative_to(self.out).as_posix(): p.read_bytes() for p in self.out.rglob("*") if p.is_file()
        }


def _preview(kb: Path, preview: Preview, seen: Seen | None = None) -> Loaded | None:
    return preview_edit(kb, site_build.config_file(kb), preview, seen or (lambda: None))


def _served(kb: Path, tmp_path: Path) -> tuple[Path, Preview]:
    out = tmp_path / "out"
    preview = Preview(out)
    assert rebuild(kb, out, preview=preview).valid
    return out, preview


def test_the_edited_page_is_shown_first_as_the_rebuild_renders_it(kb: Path, tmp_path: Path) -> None:
    out, preview = _served(kb, tmp_path)
    before = digest_tree(out)

    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    seen = Seen(out)
    loaded = _preview(kb, preview, seen)
    assert loaded is not None
    # shown once, with the edited claim's page already new and the lists not yet rebuilt
    assert seen.calls == 1
    assert "An energy deficit is needed" in seen.site["claims/deficit-needed.html"].decode()
    assert "An energy deficit" not in seen.site["claims.html"].decode()
    # the edited claim first, then the claims it is related to (their tables show its statement)
    assert preview.rendered[:2] == ["assets/kb/graphs/deficit-needed.svg", "claims/deficit-needed.html"]
    assert "claims/jogging-slims-thighs.html" in preview.rendered
    ahead = {rel: (out / rel).read_bytes() for rel in preview.rendered}
    assert "An energy deficit" in ahead["claims/jogging-slims-thighs.html"].decode()

    result = rebuild(kb, out, preview=preview, loaded=loaded)
    assert result.valid, result.problems
    for rel, data in ahead.items():  # each file written ahead is the bytes the rebuild gave it
        assert data == (out / rel).read_bytes(), rel
    changed = {rel for rel, digest in digest_tree(out).items() if before.get(rel) != digest}
    assert {"claims/deficit-needed.html", "claims.html"} <= changed

    cold = tmp_path / "cold"  # another output folder, with its own, empty cache
    site_build.build_site(load_valid(kb), cold)
    assert digest_tree(out) == digest_tree(cold)


def test_an_edit_during_a_rebuild_is_shown_and_kept_until_the_next_one(kb: Path, tmp_path: Path) -> None:
    out, preview = _served(kb, tmp_path)
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    edited_during: list[Loaded | None] = []

    @contextlib.contextmanager
    def steps(label: str, total: int):
        def advance(_: int) -> None:
            if not edited_during:  # the watcher, while the rebuild of the first edit runs
                _edit(kb, "deficit-needed", "An energy deficit", "A energy shortfall")
                edited_during.append(_preview(kb, preview))

        yield advance

    first = rebuild(kb, out, preview=preview, progress=steps)
    assert first.valid and edited_during and edited_during[0] is not None
    # the rebuild of the first edit swapped in its site; the page of the second edit is put back
    assert "A energy shortfall" in (out / "claims/deficit-needed.html").read_text()
    assert "An energy deficit" in (out / "claims.html").read_text()

    second = rebuild(kb, out, preview=preview, loaded=edited_during[0])
    assert second.valid
    cold = tmp_path / "cold"
    site_build.build_site(load_valid(kb), cold)
    assert digest_tree(out) == digest_tree(cold)


def test_nothing_is_rendered_ahead_without_an_edit_or_a_completed_build(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    preview = Preview(out)
    seen = Seen(out)
    assert _preview(kb, preview, seen) is not None  # no build yet: nothing to start from
    assert seen.calls == 0 and preview.rendered == []
    assert rebuild(kb, out, preview=preview).valid
    assert _preview(kb, preview, seen) is not None  # nothing changed
    assert seen.calls == 0 and preview.rendered == []

    # a source changed, no claim: the rebuild does it all
    source = kb / "sources/coach.yaml"
    source.write_text(source.read_text().replace("A coach's notes", "A trainer's notes"))
    assert _preview(kb, preview, seen) is not None
    assert seen.calls == 0 and preview.rendered == []


def test_an_invalid_edit_keeps_the_last_valid_pages(kb: Path, tmp_path: Path) -> None:
    out, preview = _served(kb, tmp_path)
    before = digest_tree(out)
    _edit(kb, "deficit-needed", "topic: diet", "topic: [diet")  # broken YAML
    seen = Seen(out)
    assert _preview(kb, preview, seen) is None and seen.calls == 0
    broken = rebuild(kb, out, preview=preview)
    assert not broken.valid and broken.problems
    assert digest_tree(out) == before

    # fixed, and edited: the preview starts from the last completed build
    _edit(kb, "deficit-needed", "topic: [diet", "topic: diet")
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    assert _preview(kb, preview, seen) is not None and seen.calls == 1
    assert "An energy deficit" in (out / "claims/deficit-needed.html").read_text()


def test_a_build_that_fails_takes_back_what_the_preview_wrote(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, preview = _served(kb, tmp_path)
    before = digest_tree(out)

    def fails(*args, **kwargs):
        raise site_build.SiteBuildError("the site generator failed: on purpose")

    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    seen = Seen(out)
    loaded = _preview(kb, preview, seen)
    assert seen.calls == 1 and "An energy deficit" in seen.site["claims/deficit-needed.html"].decode()
    monkeypatch.setattr(site_build, "build_site", fails)
    failed = rebuild(kb, out, preview=preview, loaded=loaded)
    assert not failed.valid and "on purpose" in failed.problems[-1].message
    assert digest_tree(out) == before  # the site the last build left, every byte
    assert not list(out.rglob("*.tmp"))  # nothing half-written left behind

    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert rebuild(kb, out, preview=preview).valid
    assert "An energy deficit" in (out / "claims/deficit-needed.html").read_text()


def test_a_preview_that_fails_leaves_the_work_to_the_rebuild(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, preview = _served(kb, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("the theme changed")

    monkeypatch.setattr(preview_module, "_render", broken)
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    loaded = _preview(kb, preview)
    assert loaded is not None and preview.rendered == []
    result = rebuild(kb, out, preview=preview, loaded=loaded)
    assert result.valid
    assert "An energy deficit" in (out / "claims/deficit-needed.html").read_text()


def test_pages_in_the_navigation_are_left_to_the_rebuild(kb: Path, tmp_path: Path) -> None:
    _, preview = _served(kb, tmp_path)
    site = preview.site
    assert site is not None
    assert preview_module._render(site, "index.md", "# Home\n") is None  # other pages show its title
    assert preview_module._render(site, "claims/no-such-claim.md", "# New\n") is None  # not in that build
    found = preview_module._render(site, "claims/deficit-needed.md", "# A title\n\nSome text.\n")
    assert found is not None and found[0] == "claims/deficit-needed.html"
    assert b"Some text." in found[1]


def test_the_plan_is_the_edited_claims_then_their_related_ones(kb: Path, tmp_path: Path) -> None:
    _, preview = _served(kb, tmp_path)
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    base = load_valid(kb)
    edited, related = preview.plan(base, compute(base))
    assert edited == ["deficit-needed"]
    assert "jogging-slims-thighs" in related and "deficit-needed" not in related
    assert len(edited) + len(related) <= preview_module.LIMIT


def test_only_a_statement_edit_keeps_the_last_builds_clashes(kb: Path, tmp_path: Path) -> None:
    _, preview = _served(kb, tmp_path)
    assert preview.site is not None
    built = preview.site.kb
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    assert preview_module.only_statements_differ(built, load_valid(kb))
    _edit(kb, "deficit-needed", "tags: [calories]", "tags: [calories, energy]")
    assert not preview_module.only_statements_differ(built, load_valid(kb))


def test_a_statement_edit_is_previewed_without_weighing_the_base_again(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No number depends on a statement's words, and the graph holds none: the preview of a statement edit
    takes the last build's weights with the words written again (the same as weighing afresh) and its
    graph, comparing the two bases once; any other edit weighs again and makes the graph again."""
    from kb import graph, weigh

    _, preview = _served(kb, tmp_path)
    weighed: list[int] = []
    graphs: list[int] = []
    compared: list[int] = []
    real, real_graph, real_compare = weigh.compute, graph.build_graph, preview_module.only_statements_differ
    monkeypatch.setattr(weigh, "compute", lambda *args, **kwargs: weighed.append(1) or real(*args, **kwargs))
    monkeypatch.setattr(graph, "build_graph", lambda *args: graphs.append(1) or real_graph(*args))
    monkeypatch.setattr(
        preview_module, "only_statements_differ", lambda *args: compared.append(1) or real_compare(*args)
    )
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    loaded = _preview(kb, preview)
    assert loaded is not None and weighed == [] and graphs == [] and compared == [1]
    assert loaded.weights == real(load_valid(kb))
    _edit(kb, "deficit-needed", "tags: [calories]", "tags: [calories, energy]")
    assert _preview(kb, preview) is not None
    assert weighed == [1] and graphs == [1] and compared == [1, 1]


def test_a_page_rendered_ahead_after_another_edit_is_the_rebuilds_too(kb: Path, tmp_path: Path) -> None:
    """An edit that changes weights and clashes (a stance turned): the preview finds them again."""
    out, preview = _served(kb, tmp_path)
    _edit(
        kb,
        "deficit-needed",
        "    stance: supports\n    kind: experience",
        "    stance: opposes\n    kind: experience",
    )
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    assert preview.site is not None and not preview_module.only_statements_differ(
        preview.site.kb, load_valid(kb)
    )
    loaded = _preview(kb, preview)
    assert loaded is not None and "claims/deficit-needed.html" in preview.rendered
    ahead = {rel: (out / rel).read_bytes() for rel in preview.rendered}
    assert rebuild(kb, out, preview=preview, loaded=loaded).valid
    for rel, data in ahead.items():
        assert data == (out / rel).read_bytes(), rel


def test_the_cycle_collector_waits_while_a_preview_runs(kb: Path, tmp_path: Path) -> None:
    """In kb serve the last build is in memory: a collection of the oldest objects, a second at 10,000
    claims, waits until the edited pages are shown."""
    import gc

    out, preview = _served(kb, tmp_path)
    _edit(kb, "deficit-needed", "A calorie deficit", "An energy deficit")
    collector_on: list[bool] = []
    assert gc.isenabled()
    assert _preview(kb, preview, lambda: collector_on.append(gc.isenabled())) is not None
    assert collector_on == [False]
    assert gc.isenabled()
