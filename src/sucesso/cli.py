"""The `sucesso` command: one verb per job. No business logic here — only calls and printing."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sucesso import __version__
from sucesso.config import workspace_url
from sucesso.ingest import ImportOptions, ImportReport, RejectedFile, export_workspace, import_dir, import_file
from sucesso.ingest.parse import parse_date_format, parse_decimal_option
from sucesso.ingest.presets import delete_preset, list_presets, load_preset, save_preset, with_preset
from sucesso.ingest.problems import write_problems
from sucesso.store import Store, StoreError, get_setting, open_store
from sucesso.store.info import workspace_info

app = typer.Typer(help="sucesso — Customer Success platform.", no_args_is_help=True, add_completion=False)
presets_app = typer.Typer(help="Named import presets stored in the workspace.", no_args_is_help=True)
app.add_typer(presets_app, name="presets")
out = Console()
err = Console(stderr=True)
SHOWN_PROBLEMS = 50

DbOption = Annotated[str | None, typer.Option("--db", help="Workspace: a DuckDB file or postgresql://… URL "
                                                            "(default: $SUCESSO_DB or ./sucesso.duckdb).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextlib.contextmanager
def workspace(db: str | None) -> Iterator[Store]:
    try:
        store = open_store(workspace_url(db))
    except StoreError as exc:
        raise fail(str(exc)) from None
    with store:
        yield store


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[tuple]:
    """A byte progress bar on the terminal, and phase lines on stderr (also when piped)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task(label, total=None)

    def on_progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    def on_phase(phase: str) -> None:
        bar.update(task, description=f"{label}: {phase}")
        if not err.is_terminal:
            err.print(f"{label}: {phase}", highlight=False)

    with bar:
        yield on_progress, on_phase


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    if version:
        out.print(f"sucesso {__version__}")
        raise typer.Exit()


# -- import / export --------------------------------------------------------------------
def _options(fmt, encoding, delimiter, decimal, date_format, sheet, maps, skip_invalid) -> ImportOptions:
    mapping = {}
    for item in maps or []:
        if "=" not in item:
            raise fail(f"--map expects SOURCE=COLUMN, got {item!r}")
        src, dst = item.split("=", 1)
        mapping[src.strip()] = dst.strip()
    try:
        return ImportOptions(fmt, encoding, "\t" if delimiter in ("tab", "\\t") else delimiter,
                             parse_decimal_option(decimal), parse_date_format(date_format), sheet, mapping,
                             skip_invalid)
    except ValueError as exc:
        raise fail(str(exc)) from None


def print_reports(reports: list[ImportReport], errors_file: str | None) -> bool:
    table = Table("file", "table", "inserted", "updated", "unchanged", "rejected", title="import")
    for r in reports:
        table.add_row(os.path.basename(r.file), r.table, f"{r.inserted:,}", f"{r.updated:,}", f"{r.unchanged:,}",
                      f"{r.rejected:,}", style=None if r.written else "red")
    out.print(table)
    problems = [p for r in reports for p in r.problems]
    for r in reports:
        if r.ignored_columns:
            out.print(f"[yellow]{os.path.basename(r.file)}: columns ignored (not in {r.table}):[/] "
                      + ", ".join(r.ignored_columns), highlight=False)
        if r.rejected_file:
            out.print(f"rejected rows saved to {r.rejected_file}", highlight=False)
    ok = all(r.written for r in reports)
    if problems:
        for p in problems[:SHOWN_PROBLEMS]:
            err.print(f"  {p}", highlight=False, markup=False)
        if len(problems) > SHOWN_PROBLEMS:
            err.print(f"  … and {len(problems) - SHOWN_PROBLEMS:,} more"
                      + ("" if errors_file else " (see them all with --errors-file PATH)"))
        if errors_file:
            write_problems(errors_file, problems)
            err.print(f"all {len(problems):,} problems written to {errors_file}")
        if not ok:
            err.print("[bold red]nothing was written[/]: fix the file, or use --skip-invalid to write the valid rows")
    return ok


@app.command("import")
def import_command(
    target: Annotated[str, typer.Argument(help="A table name (then FILE), or a folder written by `sucesso export`.")],
    file: Annotated[str | None, typer.Argument(help="The file to import into TABLE.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, tsv, xlsx, parquet, json, ndjson.")] = None,
    encoding: Annotated[str | None, typer.Option(help="utf-8, cp1252, latin-1… (default: detected).")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV separator: ';', ',', 'tab' (default: detected).")] = None,
    decimal: Annotated[str | None, typer.Option(help="comma (1.234,56) or dot (1,234.56).")] = None,
    date_format: Annotated[str | None, typer.Option(help="dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd.")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="SOURCE=COLUMN, repeatable.")] = None,
    preset: Annotated[str | None, typer.Option(help="Use a saved import preset.")] = None,
    save_preset_as: Annotated[str | None, typer.Option("--save-preset", help="Save these options as a preset.")] = None,
    skip_invalid: Annotated[bool, typer.Option(
        help="Write the valid rows; save the rejected ones beside the file.")] = False,
    errors_file: Annotated[str | None, typer.Option(help="Write every problem found to this CSV.")] = None,
    db: DbOption = None,
) -> None:
    """Import a file into a table (all or nothing by default), or restore an exported folder."""
    given = _options(fmt, encoding, delimiter, decimal, date_format, sheet, map_, skip_invalid)
    with workspace(db) as store:
        table_name, path = target, file
        try:
            if preset:
                preset_table, preset_options = load_preset(store, preset)
                if file is None:
                    table_name, path = preset_table, target
                given = with_preset(preset_options, given)
            with progress_bar(os.path.basename((path or target).rstrip("/"))) as (on_progress, on_phase):
                if path is None:
                    if not os.path.isdir(target):
                        raise fail(f"{target!r} is not a folder; to import a file say the table: "
                                   "sucesso import TABLE FILE")
                    reports = import_dir(store, target, given, on_progress, on_phase)
                else:
                    reports = [import_file(store, table_name, path, given, on_progress, on_phase)]
        except (RejectedFile, KeyError) as exc:
            raise fail(str(exc).strip('"')) from None
        if save_preset_as and reports and reports[0].written and path is not None:
            save_preset(store, save_preset_as, table_name, given)
            out.print(f"preset {save_preset_as!r} saved")
    if not print_reports(reports, errors_file):
        raise typer.Exit(1)


@app.command("export")
def export_command(directory: Annotated[str, typer.Argument(help="Folder to write (created if needed).")],
                   db: DbOption = None) -> None:
    """Export every table as Parquet (one file per table) plus a manifest."""
    with workspace(db) as store:
        counts = export_workspace(store, directory)
    out.print(f"exported {sum(counts.values()):,} rows in {len(counts)} tables to {directory}", highlight=False)


@presets_app.command("list")
def presets_list(db: DbOption = None) -> None:
    """List the saved import presets."""
    with workspace(db) as store:
        rows = list_presets(store)
    table = Table("name", "table", "options")
    for name, table_name, options in rows:
        table.add_row(name, table_name, options)
    out.print(table)


@presets_app.command("delete")
def presets_delete(name: str, db: DbOption = None) -> None:
    """Delete a saved import preset."""
    with workspace(db) as store:
        if not delete_preset(store, name):
            raise fail(f"no preset named {name!r}")
    out.print(f"preset {name!r} deleted")


# -- workspace --------------------------------------------------------------------------
@app.command("info")
def info_command(db: DbOption = None) -> None:
    """What the workspace holds: tables, row counts, date range, currency."""
    with workspace(db) as store:
        info = workspace_info(store)
    print_info(info)


def print_info(info) -> None:
    out.print(f"workspace [bold]{info.url}[/] ({info.engine}, schema version {info.schema_version})", highlight=False)
    out.print(f"currency {info.currency}, language {info.locale}", highlight=False)
    if info.first is not None:
        out.print(f"data from {info.first:%Y-%m-%d} to {info.last:%Y-%m-%d}", highlight=False)
    table = Table("table", "rows", "from", "to")
    for t in info.tables:
        table.add_row(t.name, f"{t.rows:,}", f"{t.first:%Y-%m-%d}" if t.first else "",
                      f"{t.last:%Y-%m-%d}" if t.last else "")
    out.print(table)


FAMILY_TITLES = {
    "revenue": "Revenue", "retention": "Retention", "unit_economics": "Billing & unit economics",
    "satisfaction": "Satisfaction", "support": "Support", "adoption": "Adoption", "operations": "Operations",
}


def _span(store: Store, start: str | None, end: str | None) -> tuple[str, str]:
    import datetime as dt

    from sucesso.metrics.api import default_months

    if start and end:
        return start, end
    first, last = default_months(store, dt.date.today())
    return start or first, end or last


@app.command("metrics")
def metrics_command(
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM (default: 6 months back).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (default: the last full one).")] = None,
    period: Annotated[str, typer.Option(help="month, quarter or year.")] = "month",
    by: Annotated[str | None, typer.Option(help="segment, plan, csm, touch_model or country.")] = None,
    only: Annotated[str | None, typer.Option(help="Comma-separated KPI keys (METRICS.md).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (rates as fractions).")] = False,
    lang: Annotated[str | None, typer.Option(help="pt_BR or en (default: the workspace's).")] = None,
    db: DbOption = None,
) -> None:
    """The KPIs for recent periods, grouped by family (or as JSON)."""
    import json

    from sucesso.metrics.api import currency, kpi_rows
    from sucesso.metrics.evaluate import select_metrics

    keys = [k.strip() for k in only.split(",") if k.strip()] if only else None
    with workspace(db) as store:
        first, last = _span(store, start, end)
        try:
            chosen = select_metrics(keys)
            rows = kpi_rows(store, keys, first, last, period=period, by=by)
        except (KeyError, ValueError) as exc:
            raise fail(str(exc).strip('"')) from None
        money = currency(store)
        locale = lang or get_setting(store, "locale")
    if as_json:
        print(json.dumps({"currency": money, "period": period, "rows": rows}, ensure_ascii=False, indent=2))
        return
    print_kpis(rows, chosen, by, locale, money)


def print_kpis(rows: list[dict], chosen, by: str | None, locale: str, money: str) -> None:
    """One table per family: KPIs down, periods across (and one line per group with --by)."""
    from sucesso.formatting import format_value

    periods = list(dict.fromkeys(r["period"] for r in rows))
    groups = list(dict.fromkeys(r[by] for r in rows)) if by else [None]
    cell = {(r["period"], r[by] if by else None): r for r in rows}
    for family, title in FAMILY_TITLES.items():
        members = [m for m in chosen if m.family == family]
        if not members:
            continue
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("KPI")
        if by:
            table.add_column(by)
        for p in periods:
            table.add_column(p, justify="right", no_wrap=True)
        for m in members:
            for g in groups:
                values = [format_value(cell.get((p, g), {}).get(m.key), m.unit, locale, money) for p in periods]
                table.add_row(m.key, *([str(g) if g is not None else "—"] if by else []), *values)
        out.print(table)


@app.command("cohorts")
def cohorts_command(
    kind: Annotated[str, typer.Option(help="logo (share of accounts) or revenue (share of MRR).")] = "logo",
    start: Annotated[str | None, typer.Option("--from", help="First cohort month, YYYY-MM (default: 12 back).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[str | None, typer.Option(help="pt_BR or en (default: the workspace's).")] = None,
    db: DbOption = None,
) -> None:
    """The cohort table: rows are first paid months, columns months since, cells retention."""
    import datetime as dt
    import json

    from sucesso.metrics.api import cohorts, default_months

    if kind not in ("logo", "revenue"):
        raise fail("--kind must be logo or revenue")
    with workspace(db) as store:
        first, last = default_months(store, dt.date.today(), count=12)
        try:
            frame = cohorts(store, kind, start or first, end or last)
        except ValueError as exc:
            raise fail(str(exc)) from None
        locale = lang or get_setting(store, "locale")
    rows = [{k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]
    if as_json:
        print(json.dumps({"kind": kind, "rows": rows}, ensure_ascii=False, indent=2, default=float))
        return
    print_cohorts(rows, kind, locale)


def heat(value: float | None) -> str:
    """Red (0%) through yellow to green (100%) for a retention share."""
    if value is None:
        return ""
    v = max(0.0, min(1.0, value))
    red, green = (255, int(510 * v)) if v < 0.5 else (int(510 * (1 - v)), 255)
    return f"black on rgb({red},{min(green, 255)},80)"


def print_cohorts(rows: list[dict], kind: str, locale: str) -> None:
    from sucesso.formatting import format_value

    months = [c for c in (rows[0] if rows else {}) if c.startswith("m") and c[1:].isdigit()]
    table = Table(title=f"{kind} retention by cohort", title_justify="left")
    table.add_column("cohort")
    table.add_column("size", justify="right")
    for m in months:
        table.add_column(m[1:], justify="right")
    for r in rows:
        size = format_value(r["size"], "money" if kind == "revenue" else "count", locale)
        cells = [format_value(r[m], "rate", locale) if r[m] is not None else "" for m in months]
        table.add_row(r["cohort"], size, *[f"[{heat(r[m])}]{c}[/]" if c else "" for m, c in zip(months, cells,
                                                                                               strict=True)])
    out.print(table)


@app.command("bench")
def bench_command(
    accounts: Annotated[int, typer.Option(help="Size of the demo company to measure.")] = 100_000,
    months: Annotated[int, typer.Option(help="Months of KPIs to recompute.")] = 36,
    folder: Annotated[str, typer.Option(help="Where the bench workspace and results live.")] = "benchmarks",
) -> None:
    """Time a full recompute of every KPI and both cohort tables against one scan of every table."""
    from sucesso.metrics.bench import run

    with progress_bar("bench") as (_, on_phase):
        result = run(accounts, months, folder, on_phase=on_phase)
    f, r = result["floor"], result["recompute"]
    out.print(f"{accounts:,} accounts, {result['rows']['usage_events']:,} usage events, {months} months")
    out.print(f"floor (one aggregate scan of every table): {f['seconds']} s, peak {f['peak_mib']} MiB")
    out.print(f"full recompute (every KPI + both cohort tables): {r['seconds']} s, peak {r['peak_mib']} MiB")
    out.print(f"ratio: {result['ratio']}× the floor; results appended to {folder}/metrics-bench.json")


@app.command("demo")
def demo_command(
    accounts: Annotated[int, typer.Option(help="How many customer accounts.", min=10)] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same company.")] = 7,
    language: Annotated[str, typer.Option(help="pt_BR (default) or en.")] = "pt_BR",
    no_serve: Annotated[bool, typer.Option(
        "--no-serve", help="Load the data and stop (do not start the web app).")] = False,
    history: Annotated[bool, typer.Option(
        help="Score every customer's health on every day of the three years.")] = True,
    db: DbOption = None,
) -> None:
    """Create a realistic synthetic subscription company in the workspace."""
    from sucesso.demo.load import DemoRefused, load_demo

    with workspace(db) as store:
        with progress_bar("demo company") as (_, on_phase):
            try:
                load_demo(store, accounts=accounts, seed=seed, language=language, on_phase=on_phase,
                          health_history=history)
            except DemoRefused as exc:
                raise fail(str(exc)) from None
        info = workspace_info(store)
        from sucesso.web.users import ensure_demo_admin

        admin = ensure_demo_admin(store)
    print_info(info)
    out.print(f"demo company loaded: {accounts:,} accounts, seed {seed}.")
    if admin:
        out.print(f"sign in as [bold]{admin[0]}[/] with the password [bold]{admin[1]}[/] (shown once; "
                  "`sucesso user add` makes more users)")
    else:
        out.print("sign in with a user of this workspace (`sucesso user list`; `sucesso user add` makes one)")
    if not no_serve:
        from sucesso.commands.serve import serve

        serve(workspace_url(db), "127.0.0.1", 8000)


from sucesso.commands import load_all  # noqa: E402  (they add to `app`, defined above)

load_all()


def run() -> None:  # pragma: no cover - console entry point convenience
    app(prog_name="sucesso")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
