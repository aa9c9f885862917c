"""The consensus report in its four formats: content, agreement with kb export, inert hostile data,
output files written whole or not at all."""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser

import markdown
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb import report
from kb.cli import cli
from kb.load import load_valid
from kb.weigh import compute, shown
from tests.conftest import FIXTURES, check_golden

BASE = FIXTURES / "contradictions"
GOLDEN = FIXTURES / "report-golden"


@pytest.fixture(scope="module")
def weighed():
    kb = load_valid(BASE)
    return kb, compute(kb)


def exported(runner) -> dict:
    result = runner.invoke(cli, ["export", "--kb", str(BASE), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_markdown_report_golden(weighed) -> None:
    kb, weights = weighed
    check_golden(GOLDEN / "contradictions.md", report.render(kb, weights, "md"))


def test_markdown_report_has_every_part(weighed) -> None:
    kb, weights = weighed
    text = report.render(kb, weights, "md")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# Contradictions fixture: consensus report"
    topics = [h for h in headings if h.startswith("## Topic: ")]
    assert topics == ["## Topic: cycling", "## Topic: diet", "## Topic: running"]
    for part in ("### Claims by strength", "### Sources for and against, with their key quotes"):
        assert headings.count(part) == 3
    assert headings[-3:] == ["## Sources", "## Agreement between sources", "## Method"]
    # a verdict per topic and per dispute, and the disputes lead the report
    assert text.count("**Verdict.**") == 3 + len(weights.disputes)
    assert headings[1] == "## Disputes and verdicts"
    question = "Which is right: that steady running builds the legs, or that steady running shrinks the legs?"
    assert headings.count(f"### Dispute: {question}") == 1
    assert "No two sources disagree on these claims." in text  # diet: both sources oppose its one claim
    assert "How strengths are computed" in text


def test_claims_are_ordered_by_strength_within_each_topic(weighed) -> None:
    kb, weights = weighed
    data = json.loads(report.render(kb, weights, "json"))
    for topic in data["topics"]:
        strengths = [c["strength"] for c in topic["claims"]]
        assert strengths == sorted(strengths, reverse=True)
        assert [c["rank"] for c in topic["claims"]] == list(range(1, len(strengths) + 1))


def test_key_quotes_are_each_sources_strongest_item(weighed) -> None:
    kb, weights = weighed
    data = json.loads(report.render(kb, weights, "json"))
    running = next(t for t in data["topics"] if t["topic"] == "running")
    shrinks = next(c for c in running["claims"] if c["id"] == "running-shrinks-legs")
    alpha = [q for q in shrinks["key_quotes"] if q["source"] == "alpha"]
    assert len(alpha) == 1 and alpha[0]["kind"] == "study" and alpha[0]["index"] == 1
    # supporters first, each side by weight
    stances = [q["stance"] for q in shrinks["key_quotes"]]
    assert stances == sorted(stances, key=lambda s: s != "supports")


def test_same_numbers_in_every_format_and_in_export(runner, weighed) -> None:
    kb, weights = weighed
    export = exported(runner)
    expected = {c["id"]: (c["strength"], c["base"], c["consensus"]) for c in export["claims"]}
    weights_by_quote = {
        (c["id"], i): ev["weight"] for c in export["claims"] for i, ev in enumerate(c["evidence"])
    }

    data = json.loads(report.render(kb, weights, "json"))
    claims = [c for t in data["topics"] for c in t["claims"]]
    from_json = {c["id"]: (c["strength"], c["base"], c["consensus"]) for c in claims}
    assert from_json == expected
    for topic in data["topics"]:
        for claim in topic["claims"]:
            for quote in claim["key_quotes"]:
                assert quote["weight"] == weights_by_quote[(claim["id"], quote["index"])]

    table = pd.read_csv(io.StringIO(report.render(kb, weights, "csv")))
    from_csv = {r.claim: (r.strength, r.base, r.consensus) for r in table.itertuples()}
    assert from_csv == expected

    # pages show a strength to two decimals, as shown everywhere (kb.weigh.shown)
    expected = {c: (shown(s), shown(b), label) for c, (s, b, label) in expected.items()}
    claim_row = r"^\| (\d+) +\| ([a-z-]+) +\|[^|]+\| ([0-9.]+) +\| ([0-9.]+) +\| ([a-z-]+)"
    rows = re.findall(claim_row, report.render(kb, weights, "md"), flags=re.MULTILINE)
    from_md = {claim: (float(s), float(b), label) for _, claim, s, b, label in rows}
    assert from_md == expected
    assert all(re.fullmatch(r"\d\.\d\d", s) for _, _, s, _, _ in rows)

    cells = re.findall(r"<td>([^<]*)</td>", report.render(kb, weights, "html"))
    for claim, (strength, base, label) in expected.items():
        # the claim's row in its topic's table of claims by strength (a dispute's table names it too)
        rows = [
            cells[i + 2 : i + 5] for i, cell in enumerate(cells) if cell == claim and cells[i - 1].isdigit()
        ]
        assert [(float(s), float(b), c) for s, b, c in rows] == [(strength, base, label)]


def test_csv_loads_in_pandas_with_one_row_per_claim(weighed) -> None:
    kb, weights = weighed
    table = pd.read_csv(io.StringIO(report.render(kb, weights, "csv")), keep_default_na=False)
    assert list(table.columns) == list(report.CSV_COLUMNS)
    assert len(table) == len(kb.claims) and set(table["claim"]) == set(kb.claims)
    assert table["strength"].dtype == float and table["strength"].between(0, 1).all()
    row = table.set_index("claim").loc["running-shrinks-legs"]
    # beta's reader opposes it, but a reader never puts the source on a side
    assert (row["topic"], row["sources_for"], row["sources_against"]) == ("running", "alpha;gamma", "")
    assert (row["dispute"], row["dispute_verdict"], row["dispute_leader"]) == (
        "running-builds-legs-vs-running-shrinks-legs",
        "leaning",
        "running-shrinks-legs",
    )
    assert float(row["rival_strength"]) == round(weights.claims["running-builds-legs"].strength, 4)


def test_every_format_is_byte_identical_when_run_twice(runner, tmp_path) -> None:
    for fmt in report.FORMATS:
        first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        for out in (first, second):
            result = runner.invoke(cli, ["report", "--kb", str(BASE), "--format", fmt, "-o", str(out)])
            assert result.exit_code == 0, result.output
        assert first.read_bytes() == second.read_bytes()
        printed = runner.invoke(cli, ["report", "--kb", str(BASE), "--format", fmt])
        assert printed.stdout.encode() == first.read_bytes()


def test_html_report_is_a_standalone_page(weighed) -> None:
    kb, weights = weighed
    page = report.render(kb, weights, "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style>" in page
    # nothing to fetch: no external stylesheet, script, image or font
    assert not re.search(r"<(link|script|img|iframe)\b", page)
    assert "http://" not in page and "https://" not in page
    # three per topic, one topic without disagreements; one per dispute; disputes, sources and agreement
    assert page.count("<table") == 3 * 3 - 1 + len(weights.disputes) + 3


# --- hostile data ---

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(2)) *bold* `code` | a {: onclick=alert(3) } & ~~s~~"


@pytest.fixture(scope="module")
def hostile(weighed):
    kb, _ = weighed
    claim = kb.claims["running-shrinks-legs"]
    evidence = [ev.model_copy(update={"quote": HOSTILE, "speaker": HOSTILE}) for ev in claim.evidence]
    claims = {**kb.claims, claim.id: claim.model_copy(update={"statement": HOSTILE, "evidence": evidence})}
    other = kb.claims["eating-less-shrinks-legs"]
    claims[other.id] = other.model_copy(update={"topic": "<img src=x onerror=alert(4)>"})
    sources = {**kb.sources, "beta": kb.sources["beta"].model_copy(update={"title": HOSTILE})}
    config = kb.config.model_copy(update={"title": HOSTILE, "description": HOSTILE})
    bad = kb.model_copy(update={"claims": claims, "sources": sources, "config": config})
    return bad, compute(bad)


class Elements(HTMLParser):
    """Every element and attribute of a page, to look for anything live."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs


def live_parts(page: str) -> list[str]:
    parser = Elements()
    parser.feed(page)
    found = [t for t in parser.tags if t in ("script", "img", "iframe", "a", "em", "strong", "code", "del")]
    found += [f"{k}={v}" for k, v in parser.attributes if k.startswith("on") or "javascript" in (v or "")]
    return found


def test_hostile_text_stays_inert_in_html(hostile) -> None:
    kb, weights = hostile
    page = report.render(kb, weights, "html")
    live = [p for p in live_parts(page) if p not in ("a", "strong")]  # the page's own links and labels
    assert live == []
    parser = Elements()
    parser.feed(page)
    hrefs = [v for k, v in parser.attributes if k == "href"]
    assert all(h.startswith("#topic-") or h == "#method" for h in hrefs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text


def test_hostile_text_stays_inert_in_markdown(hostile) -> None:
    kb, weights = hostile
    text = report.render(kb, weights, "md")
    assert "<script" not in text and "<img" not in text and "[x](javascript:" not in text
    assert "\\[x\\](javascript:" in text  # brackets escaped: not a link
    # rendered the way the site renders it (Python-Markdown with the site's extensions)
    page = markdown.markdown(text, extensions=["tables", "attr_list", "md_in_html"])
    own = {"strong"}  # **Verdict.**
    assert [p for p in live_parts(page) if p not in own] == []
    assert "alert(1)" in page and "onclick=alert(3)" in page  # the text itself is still there
    # and the way GitHub-flavoured renderers see it: every markup character escaped or an entity
    statement_row = next(line for line in text.splitlines() if "alert(1)" in line and "| 1 " in line)
    assert "\\*bold\\*" in statement_row and "\\`code\\`" in statement_row and "\\|" in statement_row
    assert "&lt;script&gt;" in statement_row and "&#126;&#126;s&#126;&#126;" in statement_row


def test_hostile_text_in_csv_and_json_is_data(hostile) -> None:
    kb, weights = hostile
    table = pd.read_csv(io.StringIO(report.render(kb, weights, "csv")))
    assert HOSTILE in set(table["statement"])
    data = json.loads(report.render(kb, weights, "json"))
    assert data["title"] == HOSTILE


# --- the command line ---


def test_output_file_is_replaced_whole_or_left_alone(runner, tmp_path, monkeypatch) -> None:
    out = tmp_path / "report.md"
    out.write_text("the previous report\n")

    def failing_render(*args, **kwargs):
        raise RuntimeError("render failed halfway")

    monkeypatch.setattr(report, "render", failing_render)
    result = runner.invoke(cli, ["report", "--kb", str(BASE), "-o", str(out)])
    assert result.exit_code != 0
    assert out.read_text() == "the previous report\n"
    monkeypatch.undo()

    import kb.output

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kb.output.os, "replace", failing_replace)
    result = runner.invoke(cli, ["report", "--kb", str(BASE), "-o", str(out)])
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "No space left on device" in result.stderr
    assert "Traceback" not in result.output
    assert out.read_text() == "the previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left behind
    monkeypatch.undo()

    result = runner.invoke(cli, ["report", "--kb", str(BASE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Contradictions fixture: consensus report")


def test_usage_errors(runner, tmp_path) -> None:
    result = runner.invoke(cli, ["report", "--kb", str(BASE), "--format", "pdf"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["report", "--kb", str(BASE), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.stderr
    with pytest.raises(ValueError, match="unknown report format"):
        report.render(*load_and_weigh(), "pdf")


def load_and_weigh():
    kb = load_valid(BASE)
    return kb, compute(kb)


def test_invalid_base_is_reported_without_a_traceback(runner) -> None:
    result = runner.invoke(cli, ["report", "--kb", str(FIXTURES / "invalid" / "bad-enum")])
    assert result.exit_code == 1
    assert "claims/a.yaml:5:13:" in result.stderr and result.stdout == ""


def test_a_dispute_across_topics_lists_its_positions_once() -> None:
    """A dispute whose claims sit in several topics is shown in each, its positions table only under its
    own topic: a dispute of thousands of claims must not be repeated in every topic it touches."""
    from tests.test_disputes import SOURCES, claim, ev
    from tests.test_weigh import make_kb

    kb = make_kb(
        SOURCES,
        [
            claim("shrinks", [ev("trial", kind="study")], ("builds",), topic="running"),
            claim("builds", [ev("post")], topic="cycling"),
            claim("tones", [ev("review")], ("shrinks",), topic="running"),
        ],
    )
    weights = compute(kb)
    (d,) = weights.disputes
    assert d.topic == "running"
    for fmt, pointer in (
        ("md", "Its positions are listed under the topic running."),
        ("html", "Its positions"),
    ):
        text = report.render(kb, weights, fmt)
        assert text.count(pointer) == 1, fmt
        assert text.count("Dispute: ") == 2, fmt  # under each topic it touches
    md_text = report.render(kb, weights, "md")
    cycling = md_text[md_text.index("## Topic: cycling") :]
    cycling = cycling[: cycling.index("### Claims by strength")]
    assert (
        "| claim | position |" not in cycling
        and "Its positions are listed under the topic running." in cycling
    )


@given(st.text(alphabet=st.sampled_from(list("ab \t\n\\`*_{}[]#|&<>~\"'é\u2028")), max_size=40))
def test_md_escapes_markup_first_and_html_second(text: str) -> None:
    """One translation table gives what escaping the markup characters and then the HTML ones gives."""
    line = " ".join(text.split())
    expected = html.escape(re.sub(r"([\\`*_{}\[\]#|])", r"\\\1", line), quote=False).replace("~", "&#126;")
    assert report.md(text) == expected


@pytest.mark.parametrize("escape", [report.md, "kb.site.text.md"])
@pytest.mark.parametrize("statement", ["ratio [3]:1", "a]:b", "[x]:y", "a ]: b", "]:"])
def test_a_link_to_text_with_bracket_colon_is_kept(escape, statement: str) -> None:
    """A line that is a link whose text holds "]:" with no space after it would read as the definition
    of a reference (and vanish from the page) if the colon were left as it is."""
    if isinstance(escape, str):
        from kb.site import text

        escape = text.md
    page = markdown.markdown(f"- [{escape(statement)}](x.md)\n\n[{escape(statement)}](y.md)\n")
    links = re.findall(r'<a href="([xy])\.md">(.*?)</a>', page)
    assert [(target, html.unescape(shown)) for target, shown in links] == [("x", statement), ("y", statement)]


_CELL = st.text(alphabet=st.sampled_from(list("ab \t\n\\`*_|&<~\xa6\xa0\u2028\u201c\x00")), max_size=12)


@given(
    st.lists(st.tuples(_CELL, _CELL, st.one_of(_CELL, st.floats(allow_nan=False), st.integers())), max_size=4)
)
def test_md_tables_escape_every_cell_as_md_does(rows: list[tuple]) -> None:
    """A row found to need no escaping at once is the row of each cell escaped on its own."""
    table = report.Table(["claim", "b", "c"], rows)
    expected = ["| " + " | ".join(report.md(v) for v in row) + " |" for row in rows]
    assert report._md_table(table).split("\n")[2:] == expected
    linked = ["| " + " | ".join([f"<{report.md(v)}>", report.md(b), report.md(c)]) + " |" for v, b, c in rows]
    assert (
        report._md_table(table, raw=("claim",), ref=lambda v: f"<{report.md(v)}>").split("\n")[2:] == linked
    )


def test_html_tables_escape_every_cell() -> None:
    table = report.Table(["a<b", "c"], [("x & y", 1), ("<script>", "")])
    page = report._html_table(table)
    assert "<th>a&lt;b</th>" in page and "<td>x &amp; y</td>" in page and "<td>&lt;script&gt;</td>" in page
    assert "<script>" not in page and page.count("<tr>") == 2


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_render_bytes_is_the_rendered_text(fmt: str) -> None:
    kb = load_valid(FIXTURES / "valid")
    weights = compute(kb)
    assert report.render_bytes(kb, weights, fmt) == report.render(kb, weights, fmt).encode("utf-8")
