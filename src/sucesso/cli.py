"""The `sucesso` command: one verb per job. No business logic here — only calls and printing.

Every message to a person goes through `cli_gettext` (English in the code, the pt_BR catalog
translates), in the language `i18n.cli_language` chooses, and numbers are written in that language
too (`tr.language`). Help texts of commands, options and arguments go through `help_`: they are
made when the modules load, before any workspace is open, so they follow --lang on the command
line, else $SUCESSO_LANG, else the system's language.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sucesso import __version__
from sucesso.config import workspace_url
from sucesso.formatting import format_value
from sucesso.i18n import N_, cli_language, gettext_for
from sucesso.ingest import ImportOptions, ImportReport, RejectedFile, export_workspace, import_dir, import_file
from sucesso.ingest.parse import parse_date_format, parse_decimal_option
from sucesso.ingest.presets import delete_preset, list_presets, load_preset, save_preset, with_preset
from sucesso.ingest.problems import write_problems
from sucesso.ingest.sources import import_source, is_source
from sucesso.store import Store, StoreError, open_store
from sucesso.store.info import workspace_info


def argv_language(argv: list[str]) -> str | None:
    """The value of the first `--lang X` or `--lang=X` of a command line, if any."""
    for i, arg in enumerate(argv):
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
    return None


HELP_LANGUAGE = cli_language(argv_language(sys.argv[1:]))  # no workspace is open yet when help texts are made


def help_(text: str) -> str:
    """A command's, option's or argument's help text (written in English) in HELP_LANGUAGE:
    `typer.Option(help=help_("…"))`, `@app.command("x", help=help_("…"))`."""
    return gettext_for(HELP_LANGUAGE)(text)


def _typer_in_help_language() -> None:
    """The headings typer draws around the help texts, in the same language."""
    from typer import rich_utils

    rich_utils.ARGUMENTS_PANEL_TITLE = help_("Arguments")
    rich_utils.OPTIONS_PANEL_TITLE = help_("Options")
    rich_utils.COMMANDS_PANEL_TITLE = help_("Commands")
    rich_utils.DEFAULT_STRING = help_("[default: {}]")
    rich_utils.REQUIRED_LONG_STRING = help_("[required]")


_typer_in_help_language()
app = typer.Typer(help=help_("sucesso — Customer Success platform."), no_args_is_help=True, add_completion=False)
presets_app = typer.Typer(help=help_("Named import presets stored in the workspace."), no_args_is_help=True)
app.add_typer(presets_app, name="presets")
out = Console()
err = Console(stderr=True)
SHOWN_PROBLEMS = 50

DbOption = Annotated[str | None, typer.Option("--db", help=help_("Workspace: a DuckDB file or postgresql://… URL "
                                                                 "(default: $SUCESSO_DB or ./sucesso.duckdb)."))]
LangOption = Annotated[str | None, typer.Option("--lang", help=help_(
    "pt_BR or en (default: $SUCESSO_LANG, else the workspace's)."))]
JsonOption = Annotated[bool, typer.Option("--json", help=help_("Print JSON."))]


_language: str | None = None  # what the running command speaks; set by cli_gettext, reset by main
_chosen: str | None = None  # `sucesso --lang X …`: for every command of this invocation


def cli_gettext(store: Store | None = None, lang: str | None = None):
    """`_(message, **values)` in this command's language (i18n.cli_language: its --lang, else
    $SUCESSO_LANG, else the open workspace's locale, else the system's); `fail` speaks it too.
    `_.language` is that language: format numbers with it (formatting.format_value)."""
    global _language
    _language = cli_language(lang or _chosen, store.setting("locale") if store is not None else None)
    return gettext_for(_language)


def fail(message: str, code: int = 2, **values) -> typer.Exit:
    """Print an error — `message` in English, translated here, %(name)s filled from `values` — and
    return the Exit to raise. Messages from below the CLI (str(exc)) pass through as they are."""
    _ = gettext_for(_language or cli_language(_chosen))
    err.print(f"[bold red]{_('error:')}[/] {_(message, **values)}", highlight=False)
    return typer.Exit(code)


def read_edited_file(path: str, load: Callable):
    """`load(text, path)` of a file the team edits (health model, playbooks, churn reasons, team
    ratios), or a clear error: the file cannot be read, or every problem with its line."""
    from sucesso.yamlfile import YamlFileError

    try:
        with open(path, encoding="utf-8") as fh:
            return load(fh.read(), path)
    except OSError as exc:
        raise fail("cannot read %(path)s: %(reason)s", path=path, reason=exc.strerror) from None
    except YamlFileError as exc:
        raise fail("%(path)s has problems:\n%(problems)s", path=path, problems=exc) from None


@contextlib.contextmanager
def workspace(db: str | None) -> Iterator[Store]:
    try:
        store = open_store(workspace_url(db))
    except StoreError as exc:
        raise fail(str(exc)) from None
    with store:
        yield store


def _phase(phase: str, tr) -> str:
    """A progress phase from below the CLI in the command's language: the fixed ones ("reading",
    "users: reading") are in the catalog; the ones with numbers in them stay in English."""
    prefix, sep, rest = phase.rpartition(": ")
    return f"{prefix}{sep}{tr(rest)}"


@contextlib.contextmanager
def progress_bar(label: str, tr) -> Iterator[tuple]:
    """A byte progress bar on the terminal, and phase lines on stderr (also when piped)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task(label, total=None)

    def on_progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    def on_phase(phase: str) -> None:
        phase = _phase(phase, tr)
        bar.update(task, description=f"{label}: {phase}")
        if not err.is_terminal:
            err.print(f"{label}: {phase}", highlight=False)

    with bar:
        yield on_progress, on_phase


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help=help_("Print the version."))] = False,
         lang: LangOption = None) -> None:
    global _language, _chosen
    _language, _chosen = None, lang  # each invocation chooses again (tests run many in one process)
    if version:
        out.print(f"sucesso {__version__}")
        raise typer.Exit()


# -- import / export --------------------------------------------------------------------
def _options(fmt, encoding, delimiter, decimal, date_format, sheet, maps, skip_invalid) -> ImportOptions:
    mapping = {}
    for item in maps or []:
        if "=" not in item:
            raise fail("--map expects SOURCE=COLUMN, got %(item)r", item=item)
        src, dst = item.split("=", 1)
        mapping[src.strip()] = dst.strip()
    try:
        return ImportOptions(fmt, encoding, "\t" if delimiter in ("tab", "\\t") else delimiter,
                             parse_decimal_option(decimal), parse_date_format(date_format), sheet, mapping,
                             skip_invalid)
    except ValueError as exc:
        raise fail(str(exc)) from None


def print_reports(reports: list[ImportReport], errors_file: str | None, tr, can_skip: bool = True) -> bool:
    """The import's reports, notes and problems; whether everything was written. `can_skip`:
    whether --skip-invalid applies (not to another tool's export, which maps itself)."""
    def count(n: int) -> str:
        return format_value(n, "count", tr.language)

    columns = (N_("file"), N_("table"), N_("inserted"), N_("updated"), N_("unchanged"), N_("rejected"))
    table = Table(*map(tr, columns), title=tr("import"))
    for r in reports:
        table.add_row(os.path.basename(r.file), r.table, count(r.inserted), count(r.updated), count(r.unchanged),
                      count(r.rejected), style=None if r.written else "red")
    out.print(table)
    problems = [p for r in reports for p in r.problems]
    for r in reports:
        if r.ignored_columns:
            out.print(f"[yellow]{os.path.basename(r.file)}: "
                      f"{tr('columns ignored (not in %(table)s):', table=r.table)}[/] "
                      + ", ".join(r.ignored_columns), highlight=False)
        if r.rejected_file:
            out.print(tr("rejected rows saved to %(path)s", path=r.rejected_file), highlight=False)
        for note in r.notes if r.written else ():
            out.print(f"{os.path.basename(r.file)}: {note}", style="yellow", highlight=False, markup=False)
    ok = all(r.written for r in reports)
    if problems:
        for p in problems[:SHOWN_PROBLEMS]:
            err.print(f"  {p}", highlight=False, markup=False)
        if len(problems) > SHOWN_PROBLEMS:
            more = count(len(problems) - SHOWN_PROBLEMS)
            err.print("  " + (tr("… and %(count)s more", count=more) if errors_file else
                              tr("… and %(count)s more (see them all with --errors-file PATH)", count=more)))
        if errors_file:
            write_problems(errors_file, problems)
            err.print(tr("all %(count)s problems written to %(path)s", count=count(len(problems)), path=errors_file))
        if not ok:  # --skip-invalid writes the valid rows, unless a problem is the file's as a whole
            err.print(f"[bold red]{tr('nothing was written')}[/]: "
                      + (tr("fix the file, or use --skip-invalid to write the valid rows")
                         if can_skip and all(p.row is not None for p in problems) else tr("fix the file")))
    return ok


@app.command("import", help=help_(
    "Import a file into a table (all or nothing by default), or restore an exported folder."))
def import_command(
    target: Annotated[str, typer.Argument(help=help_(
        "A table name (then FILE), another tool's export (zendesk, movidesk, hubspot-companies, "
        "hubspot-contacts, salesforce-accounts, salesforce-contacts, stripe-customers, stripe-subscriptions, "
        "stripe-invoices, workbook; then FILE) or a folder written by `sucesso export`."))],
    file: Annotated[str | None, typer.Argument(help=help_("The file to import into TABLE."))] = None,
    fmt: Annotated[str | None, typer.Option("--format", help=help_("csv, tsv, xlsx, parquet, json, ndjson."))] = None,
    encoding: Annotated[str | None, typer.Option(help=help_("utf-8, cp1252, latin-1… (default: detected)."))] = None,
    delimiter: Annotated[str | None, typer.Option(help=help_(
        "CSV separator: ';', ',', 'tab' (default: detected)."))] = None,
    decimal: Annotated[str | None, typer.Option(help=help_("comma (1.234,56) or dot (1,234.56)."))] = None,
    date_format: Annotated[str | None, typer.Option(help=help_(
        "dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd (default: detected)."))] = None,
    sheet: Annotated[str | None, typer.Option(help=help_("XLSX sheet (default: the first)."))] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help=help_("SOURCE=COLUMN, repeatable."))] = None,
    preset: Annotated[str | None, typer.Option(help=help_("Use a saved import preset."))] = None,
    save_preset_as: Annotated[str | None, typer.Option("--save-preset", help=help_(
        "Save these options as a preset."))] = None,
    skip_invalid: Annotated[bool, typer.Option(help=help_(
        "Write the valid rows; save the rejected ones beside the file."))] = False,
    errors_file: Annotated[str | None, typer.Option(help=help_("Write every problem found to this CSV."))] = None,
    db: DbOption = None,
) -> None:
    given = _options(fmt, encoding, delimiter, decimal, date_format, sheet, map_, skip_invalid)
    with workspace(db) as store:
        tr = cli_gettext(store)
        table_name, path = target, file
        try:
            if preset:
                preset_table, preset_options = load_preset(store, preset)
                if file is None:
                    table_name, path = preset_table, target
                given = with_preset(preset_options, given)
            with progress_bar(os.path.basename((path or target).rstrip("/")), tr) as (on_progress, on_phase):
                if path is None:
                    if not os.path.isdir(target):
                        raise fail("%(target)r is not a folder; to import a file say the table: "
                                   "sucesso import TABLE FILE", target=target)
                    reports = import_dir(store, target, given, on_progress, on_phase)
                elif is_source(table_name):  # another tool's export: ingest.sources
                    reports = import_source(store, table_name, path, given, on_progress, on_phase)
                else:
                    reports = [import_file(store, table_name, path, given, on_progress, on_phase)]
        except (RejectedFile, KeyError) as exc:
            raise fail(str(exc).strip('"')) from None
        if save_preset_as and reports and reports[0].written and path is not None and not is_source(table_name):
            save_preset(store, save_preset_as, table_name, given)
            out.print(tr("preset %(name)r saved", name=save_preset_as))
    if not print_reports(reports, errors_file, tr, not (path and is_source(table_name))):
        raise typer.Exit(1)


@app.command("export", help=help_("Export every table as Parquet (one file per table) plus a manifest."))
def export_command(directory: Annotated[str, typer.Argument(help=help_("Folder to write (created if needed)."))],
                   db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        counts = export_workspace(store, directory)
    out.print(tr("exported %(rows)s rows in %(tables)s tables to %(path)s",
                 rows=format_value(sum(counts.values()), "count", tr.language), tables=len(counts), path=directory),
              highlight=False)


@presets_app.command("list", help=help_("List the saved import presets."))
def presets_list(db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        rows = list_presets(store)
    table = Table(tr("name"), tr("table"), tr("options"))
    for name, table_name, options in rows:
        table.add_row(name, table_name, options)
    out.print(table)


@presets_app.command("delete", help=help_("Delete a saved import preset."))
def presets_delete(name: Annotated[str, typer.Argument(help=help_("The preset's name."))],
                   db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        if not delete_preset(store, name):
            raise fail("no preset named %(name)r", name=name)
    out.print(tr("preset %(name)r deleted", name=name))


# -- workspace --------------------------------------------------------------------------
@app.command("info", help=help_("What the workspace holds: tables, row counts, date range, currency."))
def info_command(db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        info = workspace_info(store)
    print_info(info, tr)


def print_info(info, tr) -> None:
    out.print(tr("workspace %(url)s (%(engine)s, schema version %(version)s)", url=f"[bold]{info.url}[/]",
                 engine=info.engine, version=info.schema_version), highlight=False)
    out.print(tr("currency %(currency)s, language %(locale)s", currency=info.currency, locale=info.locale),
              highlight=False)
    if info.first is not None:
        out.print(tr("data from %(first)s to %(last)s", first=f"{info.first:%Y-%m-%d}", last=f"{info.last:%Y-%m-%d}"),
                  highlight=False)
    table = Table(tr("table"), tr("rows"), tr("from"), tr("to"))
    for t in info.tables:
        table.add_row(t.name, format_value(t.rows, "count", tr.language), f"{t.first:%Y-%m-%d}" if t.first else "",
                      f"{t.last:%Y-%m-%d}" if t.last else "")
    out.print(table)


FAMILY_TITLES = {  # print_kpis translates them
    "revenue": N_("Revenue"), "retention": N_("Retention"), "unit_economics": N_("Billing & unit economics"),
    "satisfaction": N_("Satisfaction"), "support": N_("Support"), "adoption": N_("Adoption"),
    "operations": N_("Operations"),
}


def _span(store: Store, start: str | None, end: str | None) -> tuple[str, str]:
    import datetime as dt

    from sucesso.metrics.api import default_months

    if start and end:
        return start, end
    first, last = default_months(store, dt.date.today())
    return start or first, end or last


@app.command("metrics", help=help_("The KPIs for recent periods, grouped by family (or as JSON)."))
def metrics_command(
    start: Annotated[str | None, typer.Option("--from", help=help_(
        "First month, YYYY-MM (default: 6 months back)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=help_(
        "Last month, YYYY-MM (default: the last full one)."))] = None,
    period: Annotated[str, typer.Option(help=help_("month, quarter or year."))] = "month",
    by: Annotated[str | None, typer.Option(help=help_("segment, plan, csm, touch_model or country."))] = None,
    only: Annotated[str | None, typer.Option(help=help_("Comma-separated KPI keys (METRICS.md)."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=help_("Print JSON (rates as fractions)."))] = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    import json

    from sucesso.metrics.api import currency, kpi_rows
    from sucesso.metrics.evaluate import select_metrics
    from sucesso.metrics.periods import parse_month, periods
    from sucesso.metrics.registry import METRICS
    from sucesso.metrics.targets import statuses, targets

    keys = [k.strip() for k in only.split(",") if k.strip()] if only else None
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        first, last = _span(store, start, end)
        unknown = [k for k in keys or [] if k not in METRICS]
        if unknown:
            raise fail("unknown KPI %(keys)s; the keys are in METRICS.md (e.g. %(examples)s)",
                       keys=", ".join(unknown), examples=", ".join(list(METRICS)[:6]))
        try:
            chosen = select_metrics(keys)
            rows = kpi_rows(store, keys, first, last, period=period, by=by)
        except (KeyError, ValueError) as exc:
            raise fail(str(exc).strip('"')) from None
        money = currency(store)
        goals = [] if by else statuses(targets(store), rows, [m.key for m in chosen],  # targets are company-wide
                                       periods(parse_month(first), parse_month(last), period))
    if as_json:
        print(json.dumps({"currency": money, "period": period, "rows": rows, **({"targets": goals} if goals else {})},
                         ensure_ascii=False, indent=2))
        return
    print_kpis(rows, chosen, by, tr.language, money, tr, goals)


def print_kpis(rows: list[dict], chosen, by: str | None, locale: str, money: str, tr, goals: list[dict] = ()) -> None:
    """One table per family: KPIs down, periods across (and one line per group with --by); under a
    KPI with targets (metrics.targets.statuses), a line with each period's target and status."""
    from sucesso.commands.targets import target_cell

    goal_of = {(g["period"], g["kpi"]): g for g in goals}
    periods = list(dict.fromkeys(r["period"] for r in rows))
    groups = list(dict.fromkeys(r[by] for r in rows)) if by else [None]
    cell = {(r["period"], r[by] if by else None): r for r in rows}
    for family, title in FAMILY_TITLES.items():
        members = [m for m in chosen if m.family == family]
        if not members:
            continue
        table = Table(title=tr(title), title_justify="left", show_lines=False)
        table.add_column("KPI", no_wrap=True)
        if by:
            table.add_column(by)
        for p in periods:
            table.add_column(p, justify="right", no_wrap=True)
        for m in members:
            for g in groups:
                values = [format_value(cell.get((p, g), {}).get(m.key), m.unit, locale, money) for p in periods]
                table.add_row(m.key, *([str(g) if g is not None else "—"] if by else []), *values)
            if any((p, m.key) in goal_of for p in periods):
                table.add_row(f"  {tr('target')}", *[target_cell(goal_of.get((p, m.key)), m.unit, locale, money, tr)
                                                     for p in periods])
        out.print(table)


@app.command("cohorts", help=help_(
    "The cohort table: rows are first paid months, columns months since, cells retention."))
def cohorts_command(
    kind: Annotated[str, typer.Option(help=help_("logo (share of accounts) or revenue (share of MRR)."))] = "logo",
    start: Annotated[str | None, typer.Option("--from", help=help_(
        "First cohort month, YYYY-MM (default: 12 back)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=help_("Last month, YYYY-MM."))] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    import datetime as dt
    import json

    from sucesso.metrics.api import cohorts, currency, default_months

    tr = cli_gettext(None, lang)
    if kind not in ("logo", "revenue"):
        raise fail("--kind must be logo or revenue")
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        first, last = default_months(store, dt.date.today(), count=12)
        try:
            frame = cohorts(store, kind, start or first, end or last)
        except ValueError as exc:
            raise fail(str(exc)) from None
        money = currency(store)
    rows = [{k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]
    if as_json:
        print(json.dumps({"kind": kind, "rows": rows}, ensure_ascii=False, indent=2, default=float))
        return
    print_cohorts(rows, kind, tr.language, tr, money)


def heat(value: float | None) -> str:
    """Red (0%) through yellow to green (100%) for a retention share."""
    if value is None:
        return ""
    v = max(0.0, min(1.0, value))
    red, green = (255, int(510 * v)) if v < 0.5 else (int(510 * (1 - v)), 255)
    return f"black on rgb({red},{min(green, 255)},80)"


def print_cohorts(rows: list[dict], kind: str, locale: str, tr, money: str = "BRL") -> None:
    months = [c for c in (rows[0] if rows else {}) if c.startswith("m") and c[1:].isdigit()]
    title = tr("logo retention by cohort") if kind == "logo" else tr("revenue retention by cohort")
    table = Table(title=title, title_justify="left")
    table.add_column(tr("cohort"))
    table.add_column(tr("size"), justify="right")
    for m in months:
        table.add_column(m[1:], justify="right")
    for r in rows:
        size = format_value(r["size"], "money" if kind == "revenue" else "count", locale, money)
        cells = [format_value(r[m], "rate", locale) if r[m] is not None else "" for m in months]
        table.add_row(r["cohort"], size, *[f"[{heat(r[m])}]{c}[/]" if c else "" for m, c in zip(months, cells,
                                                                                               strict=True)])
    out.print(table)


@app.command("bench", help=help_(
    "Time a full recompute of every KPI and both cohort tables against one scan of every table."))
def bench_command(
    accounts: Annotated[int, typer.Option(help=help_("Size of the demo company to measure."))] = 100_000,
    months: Annotated[int, typer.Option(help=help_("Months of KPIs to recompute."))] = 36,
    folder: Annotated[str, typer.Option(help=help_("Where the bench workspace and results live."))] = "benchmarks",
) -> None:
    from sucesso.metrics.bench import run

    tr = cli_gettext()
    with progress_bar("bench", tr) as (_, on_phase):
        result = run(accounts, months, folder, on_phase=on_phase)
    f, r = result["floor"], result["recompute"]
    def number(value, unit: str = "number") -> str:
        return format_value(value, unit, tr.language)

    out.print(tr("%(accounts)s accounts, %(events)s usage events, %(months)s months",
                 accounts=number(accounts, "count"), events=number(result["rows"]["usage_events"], "count"),
                 months=months))
    out.print(tr("floor (one aggregate scan of every table): %(seconds)s s, peak %(mib)s MiB",
                 seconds=number(f["seconds"]), mib=number(f["peak_mib"])))
    out.print(tr("full recompute (every KPI + both cohort tables): %(seconds)s s, peak %(mib)s MiB",
                 seconds=number(r["seconds"]), mib=number(r["peak_mib"])))
    out.print(tr("ratio: %(ratio)s× the floor; results appended to %(path)s", ratio=number(result["ratio"]),
                 path=f"{folder}/metrics-bench.json"))


@app.command("demo", help=help_("Create a realistic synthetic subscription company in the workspace."))
def demo_command(
    accounts: Annotated[int, typer.Option(help=help_("How many customer accounts."), min=10)] = 2000,
    seed: Annotated[int, typer.Option(help=help_("Random seed: the same seed gives the same company."))] = 7,
    language: Annotated[str, typer.Option(help=help_(
        "The company's language, and the workspace's: pt_BR (default) or en."))] = "pt_BR",
    no_serve: Annotated[bool, typer.Option("--no-serve", help=help_(
        "Load the data and stop (do not start the web app)."))] = False,
    history: Annotated[bool, typer.Option(help=help_(
        "Score every customer's health on every day of the three years."))] = True,
    db: DbOption = None,
) -> None:
    from sucesso.demo.load import DemoRefused, load_demo

    with workspace(db) as store:
        tr = cli_gettext(store)
        with progress_bar(tr("demo company"), tr) as (_, on_phase):
            try:
                load_demo(store, accounts=accounts, seed=seed, language=language, on_phase=on_phase,
                          health_history=history)
            except DemoRefused as exc:
                raise fail(str(exc)) from None
        info = workspace_info(store)
        from sucesso.web.users import ensure_demo_admin

        admin = ensure_demo_admin(store)
        tr = cli_gettext(store)  # the demo has just set the workspace's language
    print_info(info, tr)
    out.print(tr("demo company loaded: %(accounts)s accounts, seed %(seed)s.",
                 accounts=format_value(accounts, "count", tr.language), seed=seed))
    if admin:
        out.print(tr("sign in as %(email)s with the password %(password)s (shown once; `sucesso user add` makes "
                     "more users)", email=f"[bold]{admin[0]}[/]", password=f"[bold]{admin[1]}[/]"))
    else:
        out.print(tr("sign in with a user of this workspace (`sucesso user list`; `sucesso user add` makes one)"))
    if not no_serve:
        from sucesso.commands.serve import serve

        serve(workspace_url(db), "127.0.0.1", 8000, tr)


from sucesso.commands import load_all  # noqa: E402  (they add to `app`, defined above)

load_all()


def run() -> None:  # pragma: no cover - console entry point convenience
    app(prog_name="sucesso")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
