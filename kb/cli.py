"""The ``kb`` command line: parses arguments, calls the library, prints.

Exit codes: 0 success, 1 invalid knowledge base or failed check, 2 wrong usage.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import kb._blas  # noqa: F401  (first of kb: numpy reads its setting when it loads)
from kb import __version__, progress
from kb.errors import InvalidKnowledgeBase, KbError, Problem, UsageError
from kb.gcpause import paused_gc
from kb.output import Data, write_all, write_atomic, write_output
from kb.vocabulary import EVIDENCE_KINDS, SOURCE_KINDS, STANCES

# The largest --limit accepted (more than any knowledge base holds; SQLite takes 64-bit numbers only).
MAX_LIMIT = 1_000_000
# The most claims one search shows (kb.search.MAX_LIMIT, kept here so the CLI loads without it).
SEARCH_LIMIT = 1000


def check_addr(addr: str) -> str:
    """``HOST:PORT`` with a port from 1 to 65535, else a usage error (not a traceback from the server)."""
    host, colon, port = addr.rpartition(":")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"--addr {addr!r}: give HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:8000")
    return addr


def kb_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--kb",
        "kb_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default="the current folder",
        help="The knowledge-base folder (with sources/ and claims/).",
    )(func)


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn kb's own failures into messages and exit codes, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidKnowledgeBase as exc:
            print_problems(exc.problems)
            click.echo(f"kb: {exc}; run 'kb validate' for details", err=True)
            sys.exit(exc.exit_code)
        except KbError as exc:
            click.echo(f"kb: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


# Set by a batch command once it has run: the process has nothing left to do but exit (see main).
_done_with_batch = False


def batch(func: Callable[..., Any]) -> Callable[..., Any]:
    """A command that reads the knowledge base, computes and writes once, then exits: Python's cyclic
    garbage collector waits until it is done (kb.gcpause). Its objects form no cycles to collect,
    and at 10,000 claims re-scanning them each time a generation fills cost a third of the run.
    Run from the console script, the process then ends without taking the knowledge base apart
    object by object (:func:`main`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _done_with_batch
        with paused_gc():
            try:
                return func(*args, **kwargs)
            finally:
                _done_with_batch = True

    return wrapper


def write_or_print(text: Data, output: Path | None) -> None:
    if output is None or str(output) == "-":
        stream = getattr(sys.stdout, "buffer", None)
        if isinstance(text, list) and stream is not None:  # pieces, one after another (kb.output)
            sys.stdout.flush()
            for piece in text:
                stream.write(piece)
            stream.flush()
        elif isinstance(text, list):
            click.echo(b"".join(text), nl=False)
        else:
            click.echo(text, nl=False)
    else:
        write_output(output, text)
        click.echo(f"wrote {output}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kb")
def cli() -> None:
    """kb: an evidence-weighted claims knowledge base.

    Keep claims as YAML files with the verbatim quotes that back them; kb checks
    them, weighs them, finds where sources disagree and renders a site.
    """


@cli.command()
@kb_option
@reports_errors
@batch
def validate(kb_dir: Path) -> None:
    """Check every file; print each problem as path:line:col: message."""
    from kb.load import load

    kb, problems = load(kb_dir, progress=progress.terminal)
    print_problems(problems)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if kb is None:
        click.echo(
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
            err=True,
        )
        sys.exit(1)
    quotes = sum(len(c.evidence) for c in kb.claims.values())
    click.echo(
        f"ok: {len(kb.sources)} sources, {len(kb.claims)} claims, {quotes} quotes verified, "
        f"{len(kb.relations())} relations"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )


@cli.command()
@kb_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "graphml", "csv", "claimreview"]),
    default="json",
    show_default=True,
    help="json: everything; graphml: the claim graph; csv: three tables (needs -o DIR); "
    "claimreview: schema.org ClaimReview JSON-LD.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write to FILE (for csv: into the folder DIR)."
)
@reports_errors
@batch
def export(kb_dir: Path, fmt: str, output: Path | None) -> None:
    """The whole knowledge base with computed strengths, as data."""
    from kb import export as exports
    from kb import resultcache
    from kb.load import load_valid

    if fmt == "csv" and (output is None or str(output) == "-"):
        raise UsageError("--format csv writes three tables: give the folder for them with -o DIR")
    if fmt != "csv" and output is not None and output.is_dir():
        raise UsageError(f"-o {output}: is a folder; give a file name")
    kb = load_valid(kb_dir)
    weights = resultcache.compute(kb, disputes=fmt == "json")  # the others show no topic or dispute
    if fmt == "csv":
        assert output is not None
        if output.exists() and not output.is_dir():
            raise UsageError(f"-o {output}: is a file; --format csv needs a folder")
        tables = {output / name: table for name, table in exports.to_csv_tables(kb, weights).items()}
        try:
            write_all(tables)  # the three tables together or none of them
        except OSError as exc:
            raise KbError(f"cannot write into {output}: {exc.strerror or exc}; nothing written") from exc
        for path in tables:
            click.echo(f"wrote {path}", err=True)
        return
    render = {
        "json": exports.to_json_pieces,
        "graphml": exports.to_graphml,
        "claimreview": exports.to_claimreview_bytes,
    }
    write_or_print(render[fmt](kb, weights), output)


def _echo_written(kb_dir: Path, paths: list[Path]) -> None:
    for path in paths:
        click.echo(f"wrote {path.relative_to(kb_dir).as_posix()}")


@cli.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--title", help="The knowledge base's title (default: the folder's name).")
@reports_errors
def init_command(directory: Path, title: str | None) -> None:
    """Start a knowledge base in DIRECTORY (default: here): kb.yaml, sources/, claims/, schema/."""
    from kb import authoring

    for path in authoring.init(directory, title):
        shown = path.relative_to(directory).as_posix() + ("/" if path.is_dir() else "")
        click.echo(f"wrote {shown}")
    kb_flag = "" if directory == Path(".") else f" --kb {directory}"
    click.echo(f"next: kb add-source FILE{kb_flag}")


@cli.command("add-source")
@kb_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", help="The title (default: from the document: <h1>, <title>, first heading or line).")
@click.option("--author", help="The author (default: <meta name=author> of an HTML page).")
@click.option("--kind", type=click.Choice(SOURCE_KINDS), help="What sort of document (default: other).")
@click.option("--url", help="Where it was found (default: the page's canonical link, if any).")
@click.option("--id", "source_id", help="The source id (default: the title as a slug, else the file name).")
@reports_errors
def add_source(
    kb_dir: Path,
    file: Path,
    title: str | None,
    author: str | None,
    kind: str | None,
    url: str | None,
    source_id: str | None,
) -> None:
    """Copy a .txt, .md or .html document into sources/ with its YAML; never overwrites."""
    from kb import authoring

    document = authoring.read_document(file)
    planned = authoring.plan_add_source(
        kb_dir,
        document,
        fallback_id=file.stem,
        title=title,
        author=author,
        kind=kind,
        url=url,
        source_id=source_id,
    )
    written = authoring.write_new_files(kb_dir, planned)
    _echo_written(kb_dir, written + authoring.ensure_schemas(kb_dir))
    if kind is None:
        click.echo(
            f"kind: {authoring.DEFAULT_KIND} (say what it is: edit sources/{planned.id}.yaml or pass --kind)"
        )
    kb_flag = "" if kb_dir == Path(".") else f" --kb {kb_dir}"
    click.echo(f"next: kb extract {planned.id}{kb_flag}")


@cli.command()
@kb_option
@click.argument("source_id")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_LIMIT),
    default=40,
    show_default=True,
    help="At most N candidates.",
)
@click.option("--force", is_flag=True, help="Write the drafts again over an earlier run's.")
@click.option(
    "--embeddings",
    is_flag=True,
    help="Also compare meanings with a small offline embedding model (needs the 'embeddings' extra).",
)
@reports_errors
def extract(kb_dir: Path, source_id: str, limit: int, force: bool, embeddings: bool) -> None:
    """Propose candidate claims from a source, as drafts in review/SOURCE_ID/ (kb validate ignores them)."""
    from kb import authoring
    from kb import extract as extraction
    from kb.load import load_valid

    if not force:
        extraction.refuse_existing_drafts(kb_dir, source_id)
    embed = None
    if embeddings:
        from kb.embeddings import load_embedder

        embed = load_embedder()
    kb = load_valid(kb_dir)
    result = extraction.extract(kb, source_id, limit=limit, embed=embed)
    planned = extraction.plan_review(kb, result)
    for path, text in planned.files.items():
        write_atomic(path, text)
    authoring.ensure_schemas(kb_dir)
    counts = {
        s: sum(1 for c in result.candidates if c.suggestion == s)
        for s in ("same", "opposes", "contradicts", "new")
    }
    folder = extraction.review_folder(kb_dir, source_id).relative_to(kb_dir).as_posix()
    click.echo(
        f"{len(result.candidates)} candidate claims from {result.sentences} sentences of {source_id!r} "
        f"in {folder}/: {counts['same']} same as an existing claim, {counts['opposes']} opposing one, "
        f"{counts['contradicts']} contradicting one, {counts['new']} new"
    )
    for candidate in result.candidates:
        about = f" {candidate.target}" if candidate.target else ""
        about = f" (related: {candidate.target})" if candidate.suggestion == "new" and about else about
        central = "  [central assertion]" if candidate.central else ""
        click.echo(
            f"  {candidate.id}.yaml  {candidate.suggestion}{about}  (topic {candidate.topic}){central}"
        )
    skipped_file = f"{folder}/{extraction.SKIPPED_FILE}"
    click.echo(f"{len(result.skipped_sentences)} sentences skipped, each with why, in {skipped_file}")
    click.echo(
        f"next: read each draft; keep one with kb accept {folder}/ID.yaml [--into CLAIM | --statement S], "
        "link claims with kb link, delete the rest, then run kb validate"
    )


def _shown(kb_dir: Path, path: Path) -> str:
    try:
        return path.relative_to(kb_dir).as_posix()
    except ValueError:
        return str(path)


@cli.command("add-evidence")
@kb_option
@click.argument("claim_id")
@click.option("--source", "source_id", required=True, help="The source id the quote is from.")
@click.option("--quote", required=True, help="The words, verbatim from the source's text.")
@click.option("--stance", type=click.Choice(STANCES), default="supports", show_default=True)
@click.option("--kind", type=click.Choice(EVIDENCE_KINDS), required=True, help="What sort of evidence.")
@click.option(
    "--speaker",
    default="author",
    show_default=True,
    help="Who says it inside the source: author, 'reader NAME', or another voice.",
)
@reports_errors
def add_evidence(
    kb_dir: Path, claim_id: str, source_id: str, quote: str, stance: str, kind: str, speaker: str
) -> None:
    """Add a quote from a source to an existing claim, checked against the source's text first.

    The claim's file is edited in place (comments and layout kept) and replaced whole."""
    from kb import edit
    from kb.model import Evidence

    evidence = Evidence(source=source_id, stance=stance, kind=kind, quote=quote, speaker=speaker or None)  # type: ignore[arg-type]
    path = edit.add_evidence(kb_dir, claim_id, [evidence])
    click.echo(f"added {stance} evidence from {source_id!r} to {_shown(kb_dir, path)}")


@cli.command("link")
@kb_option
@click.argument("claim_id")
@click.argument("relation", type=click.Choice(["supports", "contradicts"]))
@click.argument("other_id")
@reports_errors
def link_command(kb_dir: Path, claim_id: str, relation: str, other_id: str) -> None:
    """Record that CLAIM_ID supports or contradicts OTHER_ID (in CLAIM_ID's file)."""
    from kb import edit

    path = edit.link(kb_dir, claim_id, relation, other_id)
    click.echo(f"{claim_id} {relation} {other_id}: wrote {_shown(kb_dir, path)}")


@cli.command("accept")
@kb_option
@click.argument("draft", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "into", help="An existing claim to add the draft's quote to (else: a new claim).")
@click.option("--stance", type=click.Choice(STANCES), help="With --into: the stance (default: the draft's).")
@click.option("--kind", type=click.Choice(EVIDENCE_KINDS), help="The evidence kind (default: the draft's).")
@click.option("--speaker", help="Who says it inside the source (default: the draft's).")
@click.option("--statement", help="As a new claim: its statement, in place of the draft's sentence.")
@click.option("--topic", help="As a new claim: its topic (and folder), in place of the draft's.")
@click.option("--id", "claim_id", help="As a new claim: its id (default: the draft's file name).")
@click.option(
    "--keep-draft", is_flag=True, help="With --into: keep the draft, to add its quote elsewhere too."
)
@reports_errors
def accept(
    kb_dir: Path,
    draft: Path,
    into: str | None,
    stance: str | None,
    kind: str | None,
    speaker: str | None,
    statement: str | None,
    topic: str | None,
    claim_id: str | None,
    keep_draft: bool,
) -> None:
    """Keep a draft from kb extract: add its quote to an existing claim (--into CLAIM), or move it
    into claims/TOPIC/ as a new claim. Quotes are checked first; the draft is then deleted."""
    from kb import edit

    if not draft.exists() and (kb_dir / draft).exists():
        draft = kb_dir / draft  # as the drafts name themselves: relative to the knowledge base
    if into is not None:
        if statement or topic or claim_id:
            raise UsageError(
                "--statement, --topic and --id are for a new claim; with --into it keeps its own"
            )
        path = edit.accept_into(
            kb_dir, draft, into, stance=stance, kind=kind, speaker=speaker, keep=keep_draft
        )
        kept = "kept the draft" if keep_draft else "deleted the draft"
        click.echo(f"added the quote of {draft.name} to {_shown(kb_dir, path)}; {kept}")
        return
    if stance or kind or speaker or keep_draft:
        raise UsageError(
            "--stance, --kind, --speaker and --keep-draft go with --into; edit the draft instead"
        )
    path = edit.accept_as_new(kb_dir, draft, statement=statement, topic=topic, claim_id=claim_id)
    click.echo(f"new claim {_shown(kb_dir, path)}; deleted the draft")


@cli.group()
def new() -> None:
    """Scaffold a new claim or source file (never overwrites)."""


@new.command("claim")
@kb_option
@click.argument("claim_id")
@click.option("--topic", required=True, help="Its topic; the file goes into claims/TOPIC/.")
@click.option("--statement", help="The claim as one sentence.")
@reports_errors
def new_claim(kb_dir: Path, claim_id: str, topic: str, statement: str | None) -> None:
    """Write claims/TOPIC/CLAIM_ID.yaml: a valid claim with no evidence yet."""
    from kb import authoring

    written = authoring.write_new_files(
        kb_dir, authoring.plan_new_claim(kb_dir, claim_id, topic=topic, statement=statement)
    )
    _echo_written(kb_dir, written + authoring.ensure_schemas(kb_dir))


@new.command("source")
@kb_option
@click.argument("source_id")
@click.option("--title", required=True, help="The source's title.")
@click.option("--kind", required=True, type=click.Choice(SOURCE_KINDS), help="What sort of document it is.")
@click.option("--author", help="Who wrote it.")
@click.option("--url", help="Where it was found.")
@reports_errors
def new_source(
    kb_dir: Path, source_id: str, title: str, kind: str, author: str | None, url: str | None
) -> None:
    """Write sources/SOURCE_ID.yaml and an empty SOURCE_ID.txt for its text."""
    from kb import authoring

    planned = authoring.plan_new_source(kb_dir, source_id, title=title, kind=kind, author=author, url=url)
    written = authoring.write_new_files(kb_dir, planned)
    _echo_written(kb_dir, written + authoring.ensure_schemas(kb_dir))


@cli.command()
@kb_option
@click.argument("query", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as data.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=SEARCH_LIMIT),
    default=10,
    show_default=True,
    help=f"At most N claims (1 to {SEARCH_LIMIT:,}).",
)
@click.option("--topic", help="Only claims of this topic.")
@click.option("--source", "source_id", help="Only claims with evidence from this source id.")
@reports_errors
def search(
    kb_dir: Path, query: tuple[str, ...], as_json: bool, limit: int, topic: str | None, source_id: str | None
) -> None:
    """Ranked claims that answer a question (QUERY, quoted or not); exit 1 when no claim matches.

    \b
    Plain words are searched in all their forms and synonyms (kb.yaml), question
    words are dropped, and a likely typo of a word the base uses is corrected
    (and said so). Two things are syntax, nothing else (AND, OR, * are words):
      "a phrase"   only claims whose statement, topic or a tag says these words in this order
      -word        leave out claims whose statement, topic or tags have the word
      -"a phrase"  the same for a phrase
    \b
    A query has at most 500 characters and 32 words.
    """
    import json

    from kb import search as searching

    with searching.open_index(kb_dir, progress=progress.terminal) as index:
        result = searching.query_index(index, " ".join(query), limit=limit, topic=topic, source=source_id)
    notes, text = searching.render_text(result)
    for note in notes:
        click.echo(note, err=True)
    if as_json:
        click.echo(json.dumps(searching.result_to_dict(result), ensure_ascii=False, indent=2))
    else:
        click.echo(text, nl=False)
    if not result.hits:
        sys.exit(1)


@cli.command("report")
@kb_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "json", "html"]),
    default="md",
    show_default=True,
    help="md: Markdown; html: a standalone page; csv: one row per claim; json: the report as data.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write to FILE, whole or not at all (default: print).",
)
@reports_errors
@batch
def report_command(kb_dir: Path, fmt: str, output: Path | None) -> None:
    """The consensus report: per topic, the verdict, the claims by strength, the sources for and
    against with their key quotes, the disagreements; then the method."""
    from kb import report, resultcache
    from kb.load import load_valid

    if output is not None and output.is_dir():
        raise UsageError(f"-o {output}: is a folder; give a file name")
    kb = load_valid(kb_dir)
    # rendered in full before anything is written, so a failure leaves an existing FILE as it was
    write_or_print(report.render_pieces(kb, resultcache.compute(kb), fmt), output)


@cli.command("contradictions")
@kb_option
@click.option(
    "--source",
    "source_id",
    help="Only the disagreements this source id takes part in (an unknown id is a usage error, exit 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as data, with the agreement matrix.")
@reports_errors
@batch
def contradictions_command(kb_dir: Path, source_id: str | None, as_json: bool) -> None:
    """Where sources disagree, both quotes side by side; then, for every pair of sources, the claims
    they agree and disagree on."""
    import shutil

    from kb import contradictions, resultcache
    from kb.load import load_valid

    kb = load_valid(kb_dir)
    if source_id is not None and source_id not in kb.sources:
        raise UsageError(f"--source {source_id!r}: no such source; known sources: {', '.join(kb.sources)}")
    weights = resultcache.compute(kb)
    found = contradictions.find_contradictions(kb, weights)
    matrix = contradictions.agreement_matrix(kb, weights, found)
    if source_id is not None:
        found = [c for c in found if source_id in c.sources]
    if as_json:
        write_or_print(contradictions.to_json_pieces(kb, found, matrix, weights.disputes, source_id), None)
        return
    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    text = contradictions.render_text(
        kb, found, matrix, weights, width=width, source=source_id, parallel=True
    )
    click.echo(text, nl=False)


@cli.command("schema")
@kb_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write into (default: KB/schema).",
)
@reports_errors
def schema_command(kb_dir: Path, out: Path | None) -> None:
    """Write the JSON Schemas of source and claim files, for editors."""
    from kb import schema

    folder = out if out is not None else kb_dir / schema.SCHEMA_DIR
    try:
        written = schema.write_schemas(folder)
    except OSError as exc:
        raise KbError(f"cannot write into {folder}: {exc.strerror or exc}") from exc
    for path in written:
        click.echo(f"wrote {path}")


def _load_or_exit(kb_dir: Path):
    """The valid knowledge base, or every problem printed as kb validate prints them and exit 1."""
    from kb.load import load

    kb, problems = load(kb_dir, progress=progress.terminal)
    print_problems(problems)
    if kb is None:
        errors = sum(1 for p in problems if p.severity == "error")
        click.echo(f"kb: the knowledge base has {errors} error{'s' if errors != 1 else ''}", err=True)
        sys.exit(1)
    return kb


@cli.command()
@kb_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder for the site (default: KB/build/site); replaced whole, only once the build succeeded.",
)
@reports_errors
@batch
def build(kb_dir: Path, out: Path | None) -> None:
    """Validate, then build the static site (Material for MkDocs)."""
    from kb import resultcache
    from kb.site import build as site_build

    seen = site_build.look(kb_dir, out)  # before anything is read (kb.site.uptodate)
    kb = _load_or_exit(kb_dir)
    built = site_build.already_built(kb.root, out, seen)
    if built is not None:
        for message in built.warnings:
            click.echo(f"kb: warning: site: {message}", err=True)
        place = out if out is not None else site_build.default_out(kb.root)
        click.echo(f"{place} is up to date: nothing it is built from changed ({built.pages} pages)")
        return
    weights, keep_weights = resultcache.compute_unkept(kb)
    result = site_build.build_site(
        kb, out, weights=weights, progress=progress.terminal, keep_weights=keep_weights, seen=seen
    )
    for message in result.warnings:
        click.echo(f"kb: warning: site: {message}", err=True)
    kept = f" ({result.reused} kept from the last build)" if result.reused else ""
    click.echo(f"built {result.pages} pages{kept} into {result.out} in {result.seconds_total:.1f} s")


@cli.command()
@kb_option
@click.option(
    "--addr", default="127.0.0.1:8000", show_default=True, help="Address and port to serve on (HOST:PORT)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a web browser.")
@reports_errors
def serve(kb_dir: Path, addr: str, open_browser: bool) -> None:
    """Live preview of the site, rebuilt whenever a claim, a source or kb.yaml changes.

    The site is kept in KB/build/.serve, so that the next kb serve starts from it."""
    from kb.site import serve as site_serve

    check_addr(addr)

    def report(refresh: site_serve.Refresh) -> None:
        print_problems(refresh.problems)
        if not refresh.valid:
            click.echo("kb: the knowledge base has errors; the preview keeps the last valid pages", err=True)
        elif refresh.written or refresh.removed:
            changed = f"kb: regenerated {len(refresh.written)} files, removed {len(refresh.removed)}"
            click.echo(changed, err=True)

    sys.exit(site_serve.serve(kb_dir, addr, report, open_browser=open_browser))


def main() -> None:
    """The console script. After a batch command the process exits at once, its output flushed:
    at 10,000 claims freeing the knowledge base's objects one by one and the interpreter's last
    garbage collection over them took about 0.2 s, for nothing the user sees."""
    try:
        cli(prog_name="kb")
    except SystemExit as exc:
        code = exc.code
        if not _done_with_batch or not (code is None or isinstance(code, int)):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise exc from None  # a closed pipe: let Python report it as it always has
        os._exit(code or 0)
