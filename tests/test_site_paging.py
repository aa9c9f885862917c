"""Long pages cut into parts (kb.site.paging): no generated page over the limit, every link still resolves."""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.load import load_valid
from kb.site import pages, paging
from kb.weigh import compute
from tests.conftest import REPO
from tests.site_helpers import SITE_FIXTURE, build_with_cli, html_pages, is_external, read_page, resolve

_MD_LINK = re.compile(r"\]\(([^)\s]+)\)|href=\"([^\"]+)\"")
_IDS = re.compile(r"\{:[^}\n]*?#([A-Za-z0-9_.:-]+)|\bid=\"([^\"]+)\"")


def _broken_links(files: dict[str, str]) -> list[str]:
    """Links of the generated Markdown to a file that is not generated or to an id that is not on it."""
    ids = {
        path: {a or b for a, b in _IDS.findall(text)} for path, text in files.items() if path.endswith(".md")
    }
    broken = []
    for path, text in files.items():
        if not path.endswith(".md"):
            continue
        for a, b in _MD_LINK.findall(text):
            href = a or b
            if is_external(href) or href.startswith("data:"):
                continue
            target, _, anchor = href.partition("#")
            if target.endswith(".html"):  # raw HTML (the heat map) links to the built page
                target = target[: -len(".html")] + ".md"
            page = posixpath.normpath(posixpath.join(posixpath.dirname(path), target)) if target else path
            if page == "weighting.md":  # hand-written
                continue
            if page not in files:
                broken.append(f"{path}: {href}")
            elif anchor and page in ids and anchor not in ids[page] and not anchor.startswith("kb-parts"):
                broken.append(f"{path}: {href}: no such anchor")
    return broken


def test_a_short_page_is_one_part() -> None:
    text = '---\ntitle: "T"\n---\n\n# T\n\nsome text\n'
    assert paging.split("t.md", text, 1000).parts == {"t.md": text}


def test_a_long_page_is_cut_into_linked_parts_that_reopen_their_boxes_headings_and_tables() -> None:
    rows = "\n".join(f"| [claim {i}](claims/c{i}.md) | {i} |" for i in range(200))
    items = "\n".join(f"- item {i} [to row](#r-{i})" for i in range(200))
    text = (
        '---\ntitle: "Long"\n---\n\n# Long\n\nIntro.\n\n## Section {: #s-1 }\n\n'
        '<div class="kb-box" markdown="1">\n\n| claim | n |\n| --- | --- |\n'
        + rows
        + "\n\n</div>\n\n## Items {: #items }\n\n"
        + items
        + "\n\n## Rows {: #rows }\n\n"
        + "\n".join(f'<span id="r-{i}"></span>row {i}\n' for i in range(200))
    )
    split = paging.split("long.md", text, 4000)
    parts = list(split.parts)
    assert parts[0] == "long.md" and len(parts) > 3 and len(set(parts)) == len(parts)
    assert all(re.fullmatch(r"long-[0-9a-f]{8}(-\d+)?\.md", p) for p in parts[1:])
    for k, (path, part) in enumerate(split.parts.items()):
        assert len(part.encode()) <= 4000, path
        assert part.count("<div") == part.count("</div>"), path
        assert "(long.md#kb-parts)" in part and not re.search(r"part \d+ of \d+", part, re.IGNORECASE)
        if k:
            assert f"[\u2190 previous]({parts[k - 1]})" in part
            assert 'title: "Long (continued)"' in part
        if k + 1 < len(parts):
            assert f"[next \u2192]({parts[k + 1]})" in part
    middle = split.parts[parts[1]]
    # a part that starts inside the table repeats the box, the heading (without its id) and the header
    assert '<div class="kb-box" markdown="1">' in middle and "## Section (continued)" in middle
    assert "| claim | n |\n| --- | --- |\n| [claim" in middle and "#s-1" not in middle
    # the first part indexes them all
    assert "## All parts {: #kb-parts }" in split.parts["long.md"]
    assert all(f"({p})" in split.parts["long.md"] for p in parts[1:])
    # every id is on one part, and links to it name that part
    where = {a or b: path for path, part in split.parts.items() for a, b in _IDS.findall(part)}
    for anchor, path in split.anchors.items():
        assert where[anchor] == path
    assert _broken_links({**split.parts, **{f"claims/c{i}.md": "" for i in range(200)}}) == []


def test_generated_pages_of_a_dense_base_stay_under_the_limit_and_links_resolve(tmp_path: Path) -> None:
    base = tmp_path / "dense"
    subprocess.run(
        [sys.executable, str(REPO / "scripts/synth_kb.py"), str(base), "--claims", "150", "--dense"],
        check=True,
        capture_output=True,
    )
    kb = load_valid(base)
    limit = 60_000  # over the heat map's picture, which cannot be cut
    data = pages.site_data(kb, compute(kb), handwritten={"weighting.md"}, page_limit=limit)
    files = pages.generate_all(data)
    sizes = {path: len(text.encode()) for path, text in files.items() if path.endswith(".md")}
    assert any(p.startswith("contradictions-") for p in sizes) and any(p.startswith("report-") for p in sizes)
    assert max(sizes.values()) <= limit, max(sizes.items(), key=lambda kv: kv[1])
    assert _broken_links(files) == []
    # the disputes, clashes and pairs are found where the function that places anchors says
    for anchor, page in [(k[1], v) for k, v in data.moved.items() if k[0] == pages.CONTRADICTIONS]:
        assert re.search(rf"#{re.escape(anchor)}\b", files[page]), anchor
        assert data.anchor_page(anchor) == page


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory) -> Path:
    """The fixture base built with a small page limit, so that its long pages are cut into parts."""
    out = tmp_path_factory.mktemp("paged") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pages, "PAGE_LIMIT", 5_000)
        build_with_cli(CliRunner(), SITE_FIXTURE, out)
    return out


def test_a_site_with_pages_in_parts_has_every_link_and_anchor(paged_site: Path) -> None:
    assert list(paged_site.glob("contradictions-*.html")) and list(paged_site.glob("report-*.html"))
    cache: dict[str, set[str]] = {}
    moved = 0
    for rel in html_pages(paged_site):
        if rel == "404.html":
            continue
        for href in read_page(paged_site, rel).links:
            if is_external(href):
                continue
            target, fragment = resolve(rel, href)
            assert (paged_site / target).exists(), f"{rel}: {href} is broken"
            if fragment and target.endswith(".html"):
                if target not in cache:
                    cache[target] = read_page(paged_site, target).ids
                assert fragment in cache[target], f"{rel}: {href}: no such anchor"
                moved += bool(re.search(r"-\d+\.html$", target))
    assert moved > 5
    kb = load_valid(SITE_FIXTURE)
    assert len(kb.claims) > 3


def test_a_long_raw_html_table_is_cut_between_rows_and_each_part_has_its_head() -> None:
    rows = "\n".join(f'<tr><td><a href="c{i}.html">claim {i}</a></td><td>{i}</td></tr>' for i in range(300))
    head = "<table>\n<thead><tr><th>claim</th><th>n</th></tr></thead>\n<tbody>"
    text = f'---\ntitle: "T"\n---\n\n# T\n\n{head}\n{rows}\n</tbody>\n</table>\n'
    split = paging.split("t.md", text, 5000)
    assert len(split.parts) > 2
    seen = []
    for part in split.parts.values():
        assert len(part.encode()) <= 5000
        assert part.count("<table>") == part.count("</table>") == 1
        assert part.count("<tbody>") == part.count("</tbody>") == 1 and head in part
        seen += re.findall(r"<td>(\d+)</td>", part)
    assert seen == [str(i) for i in range(300)]


@pytest.mark.parametrize("directory_urls", [False, True])
def test_html_links_are_the_relative_paths_the_file_system_would_give(directory_urls: bool) -> None:
    docs = ["index.md", "report.md", "report-2.md", "claims/a.md", "sources/b.md", "topics/c.md", "x/y/z.md"]
    for here in docs:
        for there in docs:
            url_here = pages.page_url(here, directory_urls)
            base = url_here if url_here.endswith("/") else posixpath.dirname(url_here)
            target = pages.page_url(there, directory_urls)
            expected = posixpath.relpath(target or ".", base or ".")
            if target.endswith("/") and not expected.endswith("/"):
                expected += "/"
            assert pages.html_link(here, there, directory_urls) == expected, (here, there)
            assert pages.html_link(here, there, directory_urls, "d-1") == expected + "#d-1"


def _list_page(statements: list[str]) -> str:
    sections = "\n".join(
        f"## {i}. {s} {{: #s-{i} }}\n\n<table>\n<thead><tr><th>a</th></tr></thead>\n<tbody>\n"
        + "\n".join(f"<tr><td>{s} row {j}</td></tr>" for j in range(8))
        + "\n</tbody>\n</table>\n"
        for i, s in enumerate(statements)
    )
    return f'---\ntitle: "L"\n---\n\n# L\n\n{sections}'


def test_a_longer_entry_changes_the_part_that_holds_it_not_every_later_part() -> None:
    """Parts end where the text says (content-defined), so one statement made longer changes its part (and
    the index of parts, on the first), not the parts after it as cutting by a running count of bytes would.
    A longer text makes a place a part may end a little likelier to be taken (the chance grows with the
    bytes passed), and a longer part may reach a place it was too short to end at before, or its limit:
    then the parts after it are numbered anew, with a chance of about the bytes added over the size of a
    part. Twenty edits of 7 bytes, a part being about 5,000: at most two of them do that."""
    statements = [f"Statement number {i} says something about legs" for i in range(400)]
    before = paging.split("l.md", _list_page(statements), 40_000).parts
    assert len(before) > 8
    sizes = [len(text.encode()) for text in before.values()]
    assert max(sizes) <= 40_000
    # about an eighth of the limit on average, none but the last under a thirty-second
    assert min(sizes[:-1]) >= 40_000 // paging.MINIMUM_SHARE
    assert sum(sizes) / len(sizes) < 40_000 / 4
    local = 0
    for edited in range(10, 400, 20):
        changed_statements = list(statements)
        changed_statements[edited] = "Longer " + statements[edited]
        after = paging.split("l.md", _list_page(changed_statements), 40_000).parts
        changed = [path for path in after if before.get(path) != after[path]]
        holding = {path for path, text in after.items() if f"Longer Statement number {edited} says" in text}
        assert holding
        # a part is named by the line it starts with: one that starts with the edited text is renamed, and
        # the parts beside it link to it by name; no other part changes
        order = list(after)
        at = [i for i, path in enumerate(order) if path in holding]
        beside = {order[i + d] for i in at for d in (-1, 1) if 0 <= i + d < len(order)}
        held_before = {path for path, text in before.items() if f"Statement number {edited} says" in text}
        local += (
            set(changed) - holding - beside <= {"l.md"}
            and set(after) - set(before) <= holding
            and set(before) - set(after) <= held_before
        )
    assert local >= 18


def _mixed_page(rng, sections: int) -> list[str]:
    """The lines of a long page with what the cutting must carry across parts: headings at several levels,
    ``markdown="1"`` boxes, Markdown and raw HTML tables, lists, raw HTML blocks no part may start inside
    (some long enough to make a part end at its budget), links to the page's own anchors."""
    lines = ["# Mixed", ""]
    for i in range(sections):
        lines += [f"## Section {i} {{: #m-{i} }}", ""]
        kind = rng.randrange(5)
        if kind == 0:
            lines += ['<div markdown="1">', ""]
            lines += [
                f"- item {i}.{j} [back](#m-{rng.randrange(sections)})" for j in range(rng.randint(2, 30))
            ]
            lines += ["", "</div>", ""]
        elif kind == 1:
            lines += (
                ["| a | b |", "| - | - |"] + [f"| {i} | row {j} |" for j in range(rng.randint(3, 40))] + [""]
            )
        elif kind == 2:
            lines += ["<table>", "<thead><tr><th>x</th></tr></thead>", "<tbody>"]
            lines += [f'<tr><td id="r-{i}-{j}">{i} {j}</td></tr>' for j in range(rng.randint(3, 40))]
            lines += ["</tbody>", "</table>", ""]
        elif kind == 3:
            lines += (
                ["<div>"]
                + [f"raw {i} {j} words words words" for j in range(rng.randint(5, 300))]
                + ["</div>", ""]
            )
        else:
            lines += [f"### Sub {i}", ""] + [
                f"Paragraph {i}.{j} of some length here." for j in range(rng.randint(1, 9))
            ]
            lines += [""]
    return lines


@pytest.fixture
def scanned(monkeypatch) -> list[int]:
    """Grows by one for every line paging's scan looks at."""
    seen: list[int] = []
    scan_lines = paging._scan_lines

    def counting(lines, link_room, state):
        for line in scan_lines(lines, link_room, state):
            seen.append(1)
            yield line

    monkeypatch.setattr(paging, "_scan_lines", counting)
    return seen


def _random_edit(lines: list[str], rng, sections: int, longer: int, deleted: int) -> None:
    """One edit of a line of a page of ``_mixed_page``: longer, cut short, a section added, lines deleted
    (up to ``deleted``), or, one time in five, none."""
    i = rng.randrange(len(lines))
    edit = rng.randrange(5)
    if edit == 0:
        lines[i] += " longer" * rng.randint(1, longer)
    elif edit == 1:
        lines[i] = lines[i][: len(lines[i]) // 2]
    elif edit == 2:
        lines[i:i] = ["", f"## New {i} {{: #new-{i} }}", "", f"- a link [x](#m-{i % sections})", ""]
    elif edit == 3:
        del lines[i : i + rng.randint(1, deleted)]


def _fresh_and_resumed(text: str, memo, scanned: list[int]) -> tuple[paging.Split, float]:
    """The split of ``text`` from the memo, checked to be a split from the top's, and the share of the
    lines it looked at."""
    scanned.clear()
    fresh = paging.split("m.md", text, 20_000)
    from_top = len(scanned)
    scanned.clear()
    resumed = paging.split("m.md", text, 20_000, memo)
    assert (resumed.parts, resumed.anchors, resumed.memo) == (fresh.parts, fresh.anchors, fresh.memo)
    return resumed, len(scanned) / from_top


def test_a_split_resumed_from_the_last_cuts_gives_the_parts_of_a_fresh_split(scanned) -> None:
    """Given the memo of the page's last split, only the stretch that changed is cut again: the same parts,
    anchors and memo as a split from the top, whatever the edit (and fewer lines looked at)."""
    import random

    rng = random.Random(7)
    lines = _mixed_page(rng, 300)
    memo = paging.split("m.md", "\n".join(lines), 20_000).memo
    fewer = 0
    for _ in range(60):
        _random_edit(lines, rng, 300, longer=300, deleted=40)
        resumed, share = _fresh_and_resumed("\n".join(lines), memo, scanned)
        assert len(resumed.parts) > 10
        fewer += share < 1 / 2
        memo = resumed.memo
    assert fewer > 40
    # a memo of another limit, or one that does not describe the text, changes nothing
    text = "\n".join(lines)
    fresh = paging.split("m.md", text, 20_000)
    assert paging.split("m.md", text, 20_000, paging.split("m.md", text, 30_000).memo).parts == fresh.parts
    wrong = {**memo, "starts": [[*s[:5], "0" * 32, *s[6:]] for s in memo["starts"]]}
    assert paging.split("m.md", text, 20_000, wrong).parts == fresh.parts
    for broken in (
        {"settings": memo["settings"], "starts": [[1, 2]]},
        "nonsense",
        {"settings": memo["settings"]},
    ):
        assert paging.split("m.md", text, 20_000, broken).parts == fresh.parts


def test_edits_scattered_over_a_long_page_are_cut_again_only_around_each_change(scanned) -> None:
    """Several edits far apart (a claim whose verdicts show all over the disagreements page): the parts
    between them are taken as they were, not scanned again, and the split is still a fresh one's."""
    import random

    rng = random.Random(11)
    lines = _mixed_page(rng, 600)
    memo = paging.split("m.md", "\n".join(lines), 20_000).memo
    few = 0
    for _ in range(40):
        for _ in range(rng.randint(2, 5)):
            _random_edit(lines, rng, 600, longer=50, deleted=5)
        resumed, share = _fresh_and_resumed("\n".join(lines), memo, scanned)
        assert len(resumed.parts) > 20
        few += share < 1 / 3
        memo = resumed.memo
    assert few > 30


def test_parts_added_before_a_part_leave_its_name_and_text_alone() -> None:
    """A part is named by how it starts and says nothing of its place ("part k of n"): new parts at the top
    of a long page leave the later parts as they were, names and text (but the one after the new ones,
    whose link back leads to a new part)."""

    def page(statements: list[str]) -> str:  # each section's id made of its statement, as the clashes' are
        return "\n".join(
            f"## {s} {{: #s-{s.split()[-1]} }}\n\n" + "\n".join(f"- {s} item {j}" for j in range(8)) + "\n"
            for s in statements
        )

    statements = [f"Statement number {i} says something about legs-{i}" for i in range(400)]
    before = paging.split("l.md", page(statements), 40_000).parts
    more = [f"New statement {i} says something else entirely new-{i}" for i in range(120)]
    after = paging.split("l.md", page(more + statements), 40_000).parts
    assert len(after) > len(before) > 8
    later = [path for path in before if path != "l.md" and "Statement number 0 says" not in before[path]]
    kept = [path for path in later if after.get(path) == before[path]]
    assert len(kept) >= len(later) - 2, (len(kept), len(later))
    assert all(re.fullmatch(r"l-[0-9a-f]{8}(-\d+)?\.md", path) for path in list(after)[1:])
