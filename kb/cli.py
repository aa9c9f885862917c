"""The ``kb`` command line: parses arguments, calls the library, prints.

Exit codes: 0 success, 1 invalid knowledge base or failed check, 2 wrong usage.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kb import __version__, progress
from kb.errors import InvalidKnowledgeBase, KbError, Problem
from kb.load import load, load_valid
from kb.output import write_atomic


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


def write_or_print(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
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
def validate(kb_dir: Path) -> None:
    """Check every file; print each problem as path:line:col: message."""
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
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@reports_errors
def export(kb_dir: Path, fmt: str, output: Path | None) -> None:
    """The whole knowledge base with computed strengths, as data."""
    from kb.export import to_json
    from kb.weigh import compute

    kb = load_valid(kb_dir)
    write_or_print(to_json(kb, compute(kb)), output)


def main() -> None:
    cli(prog_name="kb")
