"""Adding sources from documents and scaffolding new files: what is written, and what is refused."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from kb import authoring
from kb.cli import cli
from kb.errors import KbError, UsageError
from kb.load import load
from kb.model import KbConfig
from kb.weigh import settings_from_config
from tests.conftest import FIXTURES

HTML = FIXTURES / "authoring" / "swimming.html"
SWIM_ID = "does-swimming-make-your-legs-bigger"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A writable copy of the small valid knowledge base."""
    root = tmp_path / "kb"
    shutil.copytree(FIXTURES / "valid", root)
    return root


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_html_reduced_to_readable_text_and_metadata() -> None:
    doc = authoring.read_document(HTML)
    assert doc.title == "Does Swimming Make Your Legs Bigger?"  # the <h1>, without the site name of <title>
    assert doc.author == "Dana Reyes"
    assert doc.url == "https://example.org/swimming-legs"
    assert doc.published == dt.date(2021, 3, 4)
    # script, style, navigation, masthead, asides and footer are not text; entities are decoded
    for hidden in ("var hidden", "color: red", "menu text", "Copyright", "masthead", "Related"):
        assert hidden not in doc.text
    assert "Swimming is a full-body workout & a gentle one." in doc.text
    # blocks are paragraphs apart; list items are consecutive lines; a wrapped line is one sentence
    assert "\n\nWhat the pool does to your legs\n\n" in doc.text
    assert "- Eating less protein makes legs smaller, so cut it first.\n- Swim daily.\n" in doc.text
    assert "builds muscle in the legs. Long-distance running" in doc.text
    assert doc.text.startswith("Does Swimming Make Your Legs Bigger?\n\n")  # the article's own <header>


def test_markdown_title_is_its_first_heading_and_text_is_kept() -> None:
    doc = authoring.read_document(FIXTURES / "authoring" / "notes.md")
    assert doc.title == "Notes on cycling and legs"
    assert doc.text == (FIXTURES / "authoring" / "notes.md").read_text()


def test_plain_text_title_is_its_first_line(tmp_path: Path) -> None:
    file = tmp_path / "x.txt"
    file.write_text("\n  Running and thighs  \nbody\n")
    assert authoring.read_document(file).title == "Running and thighs"


def test_unreadable_documents_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read .pdf"):
        authoring.read_document(tmp_path / "paper.pdf")
    binary = tmp_path / "bad.txt"
    binary.write_bytes(b"ok \xff\xfe")
    with pytest.raises(KbError, match="not UTF-8"):
        authoring.read_document(binary)
    with pytest.raises(KbError, match="cannot read"):
        authoring.read_document(tmp_path / "missing.md")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Does Swimming Make Your Legs Bigger?", "does-swimming-make-your-legs-bigger"),
        ("Café & Crème: 10 tips", "cafe-creme-10-tips"),
        ("", ""),
        ("a" * 80, "a" * 40),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert authoring.slugify(text) == slug


def test_yaml_scalar_round_trips_awkward_text() -> None:
    for value in ["plain", "a: b", "- dash", 'it\'s "quoted"', "yes", "2021-01-01", "#hash", "multi\nline"]:
        assert yaml.safe_load(f"k: {authoring.yaml_scalar(value)}") == {"k": value}
        assert yaml.safe_load(f"k: {authoring.yaml_scalar(value, quoted=True)}") == {"k": value}


def test_add_source_writes_text_and_yaml_and_the_base_still_validates(runner, base: Path) -> None:
    result = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base), "--kind", "blog"])
    assert result.exit_code == 0, result.output
    assert f"next: kb extract {SWIM_ID} --kb {base}" in result.stdout
    meta = yaml.safe_load((base / "sources" / f"{SWIM_ID}.yaml").read_text())
    assert meta == {
        "title": "Does Swimming Make Your Legs Bigger?",
        "author": "Dana Reyes",
        "kind": "blog",
        "url": "https://example.org/swimming-legs",
        "published": dt.date(2021, 3, 4),
        "text": f"{SWIM_ID}.txt",
    }
    assert (
        (base / "sources" / f"{SWIM_ID}.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../schema/source.schema.json\n")
    )
    assert (base / "schema" / "source.schema.json").is_file()
    kb, problems = load(base)
    assert kb is not None, problems
    assert SWIM_ID in kb.sources
    # the only finding is that nothing cites the new source yet
    assert [p.message for p in problems] == [f"source {SWIM_ID!r} is not cited by any claim"]


def test_add_source_options_override_the_document(runner, base: Path) -> None:
    args = ["add-source", str(HTML), "--kb", str(base), "--title", "Pool: legs", "--author", "Kim"]
    result = runner.invoke(cli, [*args, "--id", "pool", "--url", "https://example.com/p"])
    assert result.exit_code == 0, result.output
    assert "kind: other" in result.stdout
    meta = yaml.safe_load((base / "sources" / "pool.yaml").read_text())
    assert (meta["title"], meta["author"], meta["kind"], meta["url"]) == (
        "Pool: legs",
        "Kim",
        "other",
        "https://example.com/p",
    )


def test_add_source_refuses_to_overwrite_and_writes_nothing(runner, base: Path) -> None:
    (base / "sources" / f"{SWIM_ID}.txt").write_text("someone else's text\n")
    before = files_under(base)
    result = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base)])
    assert result.exit_code == 1
    assert f"sources/{SWIM_ID}.txt already exists; nothing written" in result.stderr
    assert files_under(base) == before
    assert (base / "sources" / f"{SWIM_ID}.txt").read_text() == "someone else's text\n"


def test_add_source_usage_errors(runner, base: Path) -> None:
    result = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base), "--kind", "blogpost"])
    assert result.exit_code == 2
    result = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base), "--id", "../escape"])
    assert result.exit_code == 2
    assert "source id '../escape'" in result.stderr
    assert not (base.parent / "escape.yaml").exists()
    result = runner.invoke(cli, ["add-source", str(base / "nothing.html"), "--kb", str(base)])
    assert result.exit_code == 1
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.output


def test_new_claim_scaffold_validates_and_is_not_overwritten(runner, base: Path) -> None:
    args = ["new", "claim", "swimming-slims-legs", "--topic", "swimming", "--kb", str(base)]
    result = runner.invoke(cli, [*args, "--statement", "Swimming: slims legs."])
    assert result.exit_code == 0, result.output
    file = base / "claims" / "swimming" / "swimming-slims-legs.yaml"
    assert file.read_text().startswith("# yaml-language-server: $schema=../../schema/claim.schema.json\n")
    assert (base / "schema" / "claim.schema.json").is_file()
    kb, problems = load(base)
    assert kb is not None, problems
    claim = kb.claims["swimming-slims-legs"]
    assert (claim.statement, claim.topic, claim.evidence) == ("Swimming: slims legs.", "swimming", [])
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "already has the id 'swimming-slims-legs'" in again.stderr
    # the id is unique across topic folders too
    other = runner.invoke(cli, ["new", "claim", "less-protein", "--topic", "running", "--kb", str(base)])
    assert other.exit_code == 1
    assert "claims/diet/less-protein.yaml already has the id" in other.stderr


def test_new_claim_without_statement_has_a_placeholder(runner, base: Path) -> None:
    result = runner.invoke(cli, ["new", "claim", "x", "--topic", "misc", "--kb", str(base)])
    assert result.exit_code == 0, result.output
    kb, problems = load(base)
    assert kb is not None, problems
    assert kb.claims["x"].statement == authoring.PLACEHOLDER_STATEMENT


def test_new_source_scaffold_validates(runner, base: Path) -> None:
    args = ["new", "source", "pool-notes", "--title", "Pool notes", "--kind", "article", "--kb", str(base)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (base / "sources" / "pool-notes.txt").read_text() == ""
    kb, problems = load(base)
    assert kb is not None, problems
    assert kb.sources["pool-notes"].kind == "article"
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "already exist" in again.stderr


def test_new_usage_errors(runner, base: Path) -> None:
    assert runner.invoke(cli, ["new", "claim", "x", "--kb", str(base)]).exit_code == 2  # --topic missing
    bad_topic = runner.invoke(cli, ["new", "claim", "x", "--topic", "../up", "--kb", str(base)])
    assert bad_topic.exit_code == 2
    assert "topic '../up'" in bad_topic.stderr
    bad_kind = ["new", "source", "s", "--title", "T", "--kind", "paper", "--kb", str(base)]
    assert runner.invoke(cli, bad_kind).exit_code == 2
    assert not (base / "claims" / "x.yaml").exists()


def test_files_are_written_atomically(monkeypatch, base: Path) -> None:
    written: list[Path] = []
    real = authoring.write_all

    def recording(files):
        written.extend(Path(path) for path in files)
        real(files)

    monkeypatch.setattr(authoring, "write_all", recording)
    monkeypatch.setattr("kb.schema.write_all", recording)
    before = files_under(base)
    planned = authoring.plan_add_source(base, authoring.read_document(HTML), fallback_id="swimming")
    authoring.write_new_files(base, planned)
    authoring.ensure_schemas(base)
    created = files_under(base) - before
    assert created == {p.relative_to(base).as_posix() for p in written}
    assert not [p for p in base.rglob("*.tmp")]
    # ensure_schemas leaves current schema files alone
    written.clear()
    assert authoring.ensure_schemas(base) == []
    assert written == []


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("Coffee and you\n\nBy Sam Keller\n\nCoffee is harmless.\n", "Sam Keller"),
        ("# Title\n\n**By** Maya Lindqvist, June 2023\n\nText.\n", "Maya Lindqvist"),
        ("# Title\n\n_by Dr. Ana de Souza | 3 min read_\n", "Dr. Ana de Souza"),
        ("Title\n\nBy the end of the week, legs felt lighter.\n", None),
        ("Title\n\nBy 2020, most runners agreed.\n", None),
        ("Title\n\nNo byline here.\n", None),
    ],
)
def test_byline_author(text: str, author: str | None) -> None:
    assert authoring.byline_author(text) == author


def test_author_from_byline_in_text_markdown_and_html(tmp_path: Path) -> None:
    for name, body in (
        ("a.txt", "Is coffee harmless?\nBy Sam Keller\n\nCoffee is completely harmless.\n"),
        ("a.md", "# Is coffee harmless?\n\nBy Sam Keller\n\nCoffee is completely harmless.\n"),
        ("a.html", "<h1>Is coffee harmless?</h1><p>By Sam Keller</p><p>Coffee is completely harmless.</p>"),
    ):
        (tmp_path / name).write_text(body)
        assert authoring.read_document(tmp_path / name).author == "Sam Keller", name
    # a meta tag wins over a byline
    html = '<meta name="author" content="Kim Lee"><p>By Sam Keller</p><p>Text here.</p>'
    assert authoring.html_to_document(html).author == "Kim Lee"


def test_ids_are_short_and_cut_at_a_word() -> None:
    title = "Does cycling make your legs bigger? A coach's notes on the bike and leg size"
    slug = authoring.slugify(title)
    assert slug == "does-cycling-make-your-legs-bigger"  # not "...-bigger-a"
    assert len(slug) <= authoring.MAX_ID_LENGTH == 40
    assert title.lower().replace("?", "").startswith(slug.replace("-", " "))


def test_same_document_again_is_refused_naming_the_source(runner, base: Path) -> None:
    first = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base)])
    assert first.exit_code == 0, first.output
    before = files_under(base)
    again = runner.invoke(cli, ["add-source", str(HTML), "--kb", str(base), "--id", "pool-again"])
    assert again.exit_code == 1
    assert f"already in the knowledge base as source {SWIM_ID!r}" in again.stderr
    assert files_under(base) == before
    # the same text with other line breaks and spacing is the same document
    text = (base / "sources" / "guide-b.txt").read_text()
    copy = base.parent / "copy.txt"
    copy.write_text("  " + text.replace(" ", "\n") + "\n\n")
    result = runner.invoke(cli, ["add-source", str(copy), "--kb", str(base)])
    assert result.exit_code == 1
    assert "as source 'guide-b'" in result.stderr
    # a different text is welcome
    copy.write_text(text + "One more sentence.\n")
    assert runner.invoke(cli, ["add-source", str(copy), "--kb", str(base)]).exit_code == 0


def test_init_makes_a_valid_empty_base_with_a_commented_config(runner, tmp_path: Path) -> None:
    root = tmp_path / "coffee-and-blood-pressure"
    result = runner.invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    assert files_under(root) == {"kb.yaml", "schema/source.schema.json", "schema/claim.schema.json"}
    assert (root / "sources").is_dir() and (root / "claims").is_dir()
    kb, problems = load(root)
    assert kb is not None and problems == []
    assert kb.config.title == "Coffee and blood pressure"
    # every commented setting is valid once uncommented (disputes only where kb.yaml knows them)
    config = (root / "kb.yaml").read_text()
    assert "# synonyms:" in config and "# weighting:" in config and "# disputes:" in config
    # the settings' lines are the commented ones indented under a commented key
    settings = [line.removeprefix("# ") for line in config.splitlines() if re.match(r"# ( |\w+:$)", line)]
    data = yaml.safe_load("\n".join(settings))
    assert data["weighting"]["evidence_kind"]["study"] == 1.0
    assert data["synonyms"][1] == ["blood pressure", "hypertension"]
    assert data["disputes"][0]["claims"] == ["coffee-raises-blood-pressure", "coffee-is-harmless"]
    assert settings_from_config(data["weighting"])[1] == []
    KbConfig.model_validate({k: v for k, v in data.items() if k in KbConfig.model_fields})


def test_init_refuses_an_existing_base(runner, base: Path) -> None:
    before = files_under(base)
    result = runner.invoke(cli, ["init", str(base)])
    assert result.exit_code == 1
    assert "already holds a knowledge base" in result.stderr
    assert files_under(base) == before
