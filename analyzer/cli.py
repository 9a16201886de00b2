"""The `analyze` command: a thin shell over analyzer.analyze().

Start-up matters (`analyze --help` must answer at once): this module imports only typer and rich; the
analysis (pandas, the readers, the rules) and each renderer are imported by the command that uses them.
"""

from __future__ import annotations

import os
import sys
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from analyzer import __version__
from analyzer.errors import NothingReadable, WandbFetchError
from analyzer.report.safe import plain

if TYPE_CHECKING:
    from analyzer.model import Report
    from analyzer.rules.schema import Rule


class Exit(IntEnum):
    """Process exit codes (docs/design.md, Outputs)."""

    HEALTHY = 0
    FINDINGS = 1
    USAGE = 2
    UNREADABLE = 3


class Format(str, Enum):
    terminal = "terminal"
    json = "json"
    markdown = "markdown"


class Severity(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"
    critical = "critical"


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Post-mortem analyzer for ML training runs. `analyze RUN_DIR` is short for `analyze run RUN_DIR`.",
)
_COMMANDS = {"run", "formats", "rules", "inspect", "triage", "compare", "--help", "-h", "--version"}
rules_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="The rule library: list, explain, and validate rule folders.",
)
app.add_typer(rules_app, name="rules")


@app.command("run")
def run_command(
    path: Annotated[
        Path, typer.Argument(help="Run folder or a single log/state file, or wandb://entity/project/run_id (W&B API).")
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="What to print on stdout.")] = Format.terminal,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the post-mortem here: .json for JSON, .html for "
            "a web page, anything else markdown; PNG plots go to "
            "<name>_files/ beside it.",
        ),
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write PNG plots beside the -o report.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Terminal: the verdict line only.")] = False,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")] = None,
    grammar: Annotated[
        list[Path] | None,
        typer.Option("--grammar", help="Extra console-log grammar file (repeatable; see grammars.yaml)."),
    ] = None,
    no_hints: Annotated[
        bool,
        typer.Option(
            "--no-hints", help="Leave out the built-in line grammars: the generic reader infers every console format."
        ),
    ] = False,
    fail_on: Annotated[
        Severity, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = Severity.warning,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
) -> None:
    """Analyze one run: verdict, findings with onset step, evidence and ranked causes."""
    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    out = Console(no_color=no_color, highlight=False, soft_wrap=fmt != Format.terminal)
    if not str(path).startswith("wandb:") and not path.exists():  # wandb://entity/project/run_id: the API
        _say(err, f"error: {path}: no such file or folder")
        raise typer.Exit(Exit.USAGE)
    for folder in rules or []:
        if not folder.is_dir():
            _say(err, f"error: {folder}: --rules expects a folder of rule files")
            raise typer.Exit(Exit.USAGE)
    from analyzer.api import analyze
    from analyzer.ingest.grammars import GrammarError
    from analyzer.model import severity_rank
    from analyzer.report import render_json, render_markdown

    try:
        report = analyze(path, rules_dirs=rules, grammar_files=grammar, hints=False if no_hints else None)
    except (GrammarError, WandbFetchError) as exc:
        _say(err, f"error: {exc}")
        raise typer.Exit(Exit.USAGE) from None
    except NothingReadable as exc:
        for problem in exc.problems:
            _say(err, f"error: {problem}")
        _say(err, f"error: nothing readable under {path}: no training metric or event recognised")
        raise typer.Exit(Exit.UNREADABLE) from None
    except Exception as exc:  # a bug in the analyzer: one line for users, the traceback on request
        if os.environ.get("ANALYZER_DEBUG"):
            raise
        _say(
            err,
            f"internal error while analyzing {path}: {type(exc).__name__}: {exc} "
            "(a bug in analyzer: rerun with ANALYZER_DEBUG=1 and report the traceback)",
        )
        raise typer.Exit(Exit.UNREADABLE) from None
    for problem in report.run.problems:
        _say(err, f"{'warning' if problem.level == 'error' else 'note'}: {problem}")
    try:
        if fmt == Format.json:
            sys.stdout.write(render_json(report))
        elif fmt == Format.markdown:
            sys.stdout.write(render_markdown(report))
        else:
            from analyzer.report.terminal import render_terminal

            render_terminal(report, out, quiet=quiet)
        if output is not None:
            _write_report(report, output, plots, err)
    except Exception as exc:  # rendering is analyzer code too: a bug there is one line, not a traceback
        if os.environ.get("ANALYZER_DEBUG") or isinstance(exc, typer.Exit):
            raise
        _say(
            err,
            f"internal error while writing the report of {path}: {type(exc).__name__}: {exc} "
            "(a bug in analyzer: rerun with ANALYZER_DEBUG=1 and report the traceback)",
        )
        raise typer.Exit(Exit.UNREADABLE) from None
    worst = report.worst_severity()
    failed = worst is not None and severity_rank(worst) >= severity_rank(fail_on.value)
    raise typer.Exit(Exit.FINDINGS if failed else Exit.HEALTHY)


def _say(console: Console, text: str) -> None:
    """A diagnostic line: paths and messages from the input shown literally, without control characters."""
    console.print(plain(text), markup=False)


def _write_report(report: Report, output: Path, with_plots: bool, err: Console) -> None:
    """Write the report file (and its plots beside it); a write failure is a usage error."""
    from analyzer.report import render_json, render_markdown
    from analyzer.report.html import render_html
    from analyzer.report.plots import panels, write_plots

    html = output.suffix.lower() in (".html", ".htm")
    try:
        if output.suffix.lower() == ".json":
            output.write_text(render_json(report), encoding="utf-8")
        elif html:  # one file to attach: the plots are drawn in a scratch folder and embedded
            import tempfile

            with tempfile.TemporaryDirectory() as scratch:
                folder = Path(scratch)
                plots = write_plots(report, folder / f"{output.stem}_files") if with_plots else []
                page = render_html(
                    render_markdown(report, plots, attach_note=False),
                    title=f"Post-mortem: {Path(report.run.path).name}",
                    images=folder,
                )
            output.write_text(page, encoding="utf-8")
        else:
            plots = write_plots(report, output.parent / f"{output.stem}_files") if with_plots else []
            output.write_text(render_markdown(report, plots), encoding="utf-8")
    except OSError as exc:
        _say(err, f"error: cannot write {exc.filename or output}: {exc.strerror}")
        raise typer.Exit(Exit.USAGE) from None
    extra = (
        f" (plots in {output.parent / (output.stem + '_files')})"
        if output.suffix != ".json" and not html and with_plots and panels(report.run)
        else " (plots embedded)"
        if html and with_plots and panels(report.run)
        else ""
    )
    _say(err, f"report written to {output}{extra}")


@app.command("inspect")
def inspect_command(
    path: Annotated[Path, typer.Argument(help="Run folder or one file.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="terminal or json.")] = Format.terminal,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write every metric read to this CSV or .parquet file.")
    ] = None,
    grammar: Annotated[list[Path] | None, typer.Option("--grammar", help="Extra console-log grammar file.")] = None,
    no_hints: Annotated[bool, typer.Option("--no-hints", help="Leave out the built-in line grammars.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
) -> None:
    """Show what was read from each file and how: templates, fields, step axis, unread lines, events."""
    import json

    from analyzer.ingest.grammars import GrammarError
    from analyzer.inspect import describe, metrics_frame, read
    from analyzer.inspect import export as write_export

    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    if not path.exists():
        _say(err, f"error: {path}: no such file or folder")
        raise typer.Exit(Exit.USAGE)
    try:
        ingested = read(path, grammar, False if no_hints else None)
    except GrammarError as exc:
        _say(err, f"error: {exc}")
        raise typer.Exit(Exit.USAGE) from None
    account = describe(ingested)
    if fmt == Format.json:
        sys.stdout.write(json.dumps(account, indent=2, default=str) + "\n")
    else:
        _print_account(Console(no_color=no_color, highlight=False, soft_wrap=True), account)
    if export is not None:
        try:
            write_export(metrics_frame(ingested), export)
        except (OSError, ImportError) as exc:
            _say(err, f"error: cannot write {export}: {exc}")
            raise typer.Exit(Exit.USAGE) from None
        _say(err, f"metrics written to {export}")
    raise typer.Exit(Exit.HEALTHY if ingested.frames else Exit.UNREADABLE)


def _print_account(out: Console, account: dict[str, object]) -> None:
    """The inspect view: plain text (every string from the input through plain(), never markup)."""
    from rich.text import Text

    def line(text: str, style: str = "") -> None:
        out.print(Text(plain(text), style=style))

    for entry in account["files"]:  # type: ignore[attr-defined]
        line(
            f"{entry['path']}  [{entry['format']}, {entry['status']}, {entry['rows']} rows]"
            + (f"  {entry['note']}" if entry["note"] else ""),
            "bold",
        )
        console = entry.get("console")
        if console:
            line(f"  step axis: {console['step_axis']} · {console['lines']} lines · {console['records']} records")
            for tpl in console.get("templates", []):
                line(
                    f"  template ({tpl['records']} records from line {tpl['first_line']}, step axis "
                    f"{tpl['step_axis']}: {tpl['why']})",
                    "cyan",
                )
                line(f"    {tpl['template'][:160]}", "dim")
                fields = [
                    f"{s['name'] or '?'} -> {s['split']}/{s['metric']}"
                    if s["role"] == "value" and s["metric"]
                    else f"{s['name'] or '?'} -> {s['role']}"
                    for s in tpl["slots"]
                ]
                line("    " + "; ".join(fields))
            for hint in console.get("hints", []):
                where = f"{hint['lines']} lines from line {hint['first_line']}"
                line(f"  hint {hint['hint']} ({hint['framework']}): {where}", "cyan")
                line(f"    {hint['example'][:160]}", "dim")
                line("    " + "; ".join(f"{key} -> {target}" for key, target in hint["fields"].items()))
            if console.get("prose_lines"):
                line(f"  {console['prose_lines']} line(s) with numbers left unread as prose, e.g.:", "yellow")
                for example in console.get("prose_examples", []):
                    line(f"    {example[:160]}", "dim")
        runs = entry.get("runs")
        if runs:
            spans = ", ".join(
                f"{k + 1}: lines {r['first_line']}–{r['last_line']}, {r['records']} train-loss records"
                for k, r in enumerate(runs["runs"])
            )
            line(
                f"  {len(runs['runs'])} runs one after another ({spans}); run {runs['analysed'] + 1} is summarised, "
                "each is also judged for values gone non-finite or to zero, a runaway loss or gradient, "
                "a loss scale at its floor",
                "cyan",
            )
        for name, info in entry["series"].items():
            line(f"  series {name}: {info['points']} points, steps {info['first_step']}–{info['last_step']}")
        for event in entry["events"][:20]:
            line(
                f"  event {event['kind']} ({event['severity']}) at step {event['step']}, line {event['line']}: "
                f"{event['message'][:140]}"
            )
        if len(entry["events"]) > 20:
            line(f"  ... {len(entry['events']) - 20} more events (--format json has them all)")
    for problem in account["problems"]:  # type: ignore[attr-defined]
        line(
            f"problem: {problem['path']}{':' + problem['where'] if problem['where'] else ''}: {problem['message']}",
            "red",
        )


@app.command("formats")
def formats_command() -> None:
    """List the input formats this version reads (detected by content, not by file name)."""
    from analyzer.ingest import PARSERS

    for parser in PARSERS:
        doc = (parser.__doc__ or "").strip().splitlines()[0] if parser.__doc__ else ""
        typer.echo(f"{parser.name:20s} {doc}")


class TriageFormat(str, Enum):
    terminal = "terminal"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command("triage")
def triage_command(
    folders: Annotated[list[Path], typer.Argument(help="Folders of runs (searched recursively) or run archives.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: one per core).")] = 0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the markdown summary here (plots beside it).")
    ] = None,
    db: Annotated[Path, typer.Option("--db", help="The DuckDB index (created or updated).")] = Path("triage.duckdb"),
    fmt: Annotated[
        TriageFormat,
        typer.Option(
            "--format", "-f", help="stdout: the summary (terminal, markdown) or the runs table (csv, json, parquet)."
        ),
    ] = TriageFormat.terminal,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the runs and findings tables: .csv, .parquet or .json.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address: analyse on that cluster.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per run before it is an error row.")] = 60.0,
    max_memory: Annotated[int, typer.Option("--max-memory", help="MiB per run (local workers; 0: no limit).")] = 4096,
    reports: Annotated[
        Path | None, typer.Option("--reports", help="Write one markdown post-mortem per failing run here.")
    ] = None,
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="PNG plots beside the -o summary.")] = True,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
) -> None:
    """Triage many runs: find them, analyse them in parallel into a DuckDB index, summarise and group them."""
    from analyzer.triage.command import run_triage

    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    code = run_triage(
        folders, jobs, output, db, fmt.value, export, scheduler, timeout, max_memory, reports, rules or [], plots, err
    )
    raise typer.Exit(code)


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="The run to explain (often the failing one).")],
    run_b: Annotated[Path, typer.Argument(help="The baseline (often a healthy run).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the comparison here (markdown; PNG plot beside).")
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
) -> None:
    """Compare two runs: settings and versions, curves overlaid, the first step where they part, findings."""
    from analyzer.triage.command import run_compare

    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    raise typer.Exit(run_compare(run_a, run_b, output, err))


_RulesOption = Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule folder (repeatable).")]


def _load(extra: list[Path] | None) -> list[Rule]:
    from analyzer.rules import load_rules

    rules, problems = load_rules(extra)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    return rules


@rules_app.command("list")
def rules_list(rules: _RulesOption = None) -> None:
    """Every rule: id, failure mode, severity, status and title."""
    for rule in sorted(_load(rules), key=lambda r: (r.failure_mode, r.id)):
        typer.echo(f"{rule.id:36s} {rule.failure_mode:20s} {rule.severity:9s} {rule.status:13s} {rule.title}")


@rules_app.command("explain")
def rules_explain(
    rule_id: Annotated[str, typer.Argument(help="A rule id from `analyze rules list`.")], rules: _RulesOption = None
) -> None:
    """A rule's documentation, generated from its file (markdown)."""
    found = {r.id: r for r in _load(rules)}
    if rule_id not in found:
        near = [i for i in found if rule_id.split("-")[0] in i]
        typer.echo(f"error: no rule `{rule_id}`" + (f" (did you mean {', '.join(near)}?)" if near else ""), err=True)
        raise typer.Exit(Exit.USAGE)
    from analyzer.rules.docs import explain

    sys.stdout.write(explain(found[rule_id]))


@rules_app.command("check")
def rules_check(
    folder: Annotated[Path | None, typer.Argument(help="Rule folder (default: the built-in library).")] = None,
) -> None:
    """Validate rule files: schema (with the line of each mistake), ids, parameters, conditions, examples."""
    from analyzer.rules import builtin_rules_dir, load_rules
    from analyzer.rules.docs import check_folder

    builtin = builtin_rules_dir()
    target = folder or builtin
    if not target.is_dir():
        typer.echo(f"error: {target}: not a folder", err=True)
        raise typer.Exit(Exit.USAGE)
    others = [] if target.resolve() == builtin.resolve() else load_rules()[0]
    problems = check_folder(target, others, repo=builtin.parent)
    for problem in problems:
        typer.echo(problem)
    count = len(list(target.glob("*.yaml")))
    typer.echo(
        f"{count} rule file(s) in {target}: " + (f"{len(problems)} problem(s)" if problems else "all valid"), err=True
    )
    raise typer.Exit(Exit.FINDINGS if problems else Exit.HEALTHY)


_COMMANDS.add("replay")


class Sampler(str, Enum):
    trainer = "trainer"
    sequential = "sequential"


@app.command("replay")
def replay_command(
    path: Annotated[Path, typer.Argument(help="The run folder (with its checkpoint-N/ folders).")],
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Tokenized training rows: JSONL, Parquet or a datasets folder.")
    ] = None,
    step: Annotated[int | None, typer.Option("--step", help="Replay this step (default: the finding's onset).")] = None,
    finding: Annotated[str | None, typer.Option("--finding", help="Test this finding's causes (a rule id).")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    sampler: Annotated[
        Sampler, typer.Option("--sampler", help="trainer: the Trainer's seeded shuffle; sequential: file order.")
    ] = Sampler.trainer,
    base_model: Annotated[
        Path | None, typer.Option("--base-model", help="The base model folder of a PEFT adapter (never downloaded).")
    ] = None,
    eval_dataset: Annotated[
        Path | None, typer.Option("--eval-dataset", help="Tokenized eval rows (batch 1 against N, eager vs sdpa).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Per-device batch (default: the run's).")
    ] = None,
    grad_accum: Annotated[int | None, typer.Option("--grad-accum", help="Accumulation (default: the run's).")] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Data seed (default: the run's data_seed or seed).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option("--precision", help="fp32, fp16 or bf16 (default: the run's).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="What to print on stdout.")] = Format.terminal,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the post-mortem with its replay section here.")
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
) -> None:
    """Rerun the flagged step from the checkpoint before it, under ablations; confirm or refute each cause."""
    from analyzer.replay.command import run_replay

    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    out = Console(no_color=no_color, highlight=False, soft_wrap=fmt != Format.terminal)
    options = dict(
        step=step,
        rule_id=finding,
        dataset=dataset,
        eval_dataset=eval_dataset,
        sampler=sampler.value,
        device=device,
        base_model=base_model,
    )
    overrides = dict(batch_size=batch_size, grad_accum=grad_accum, seed=seed, precision=precision)
    raise typer.Exit(run_replay(path, options, overrides, fmt.value, output, out, err))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"analyzer {__version__}")
        raise typer.Exit(Exit.HEALTHY)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Post-mortem analyzer for ML training runs."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: `analyze PATH ...` runs `analyze run PATH ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args if not a.startswith("-")), None)
    if first is not None and first not in _COMMANDS and args[0] not in _COMMANDS:
        args.insert(0, "run")
    app(args=args, prog_name="analyze")


if __name__ == "__main__":
    main()
