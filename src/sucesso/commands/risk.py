"""`sucesso risk train|evaluate|score`: the churn-risk model (insight/risk.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import DbOption, JsonOption, app, cli_gettext, fail, help_, out, workspace
from sucesso.commands.health import AsOfOption, parse_day, short_value
from sucesso.formatting import format_value
from sucesso.i18n import N_

risk_app = typer.Typer(help=help_("Churn risk in the next 90 days: train, evaluate, score."), no_args_is_help=True)
app.add_typer(risk_app, name="risk")

TestMonths = Annotated[int, typer.Option("--test-months", help=help_("The last months held out to test on."), min=1)]


def _run(db: str | None, job):
    """`job(store)`'s result and the command's gettext."""
    from sucesso.insight.risk import RiskError

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            return job(store), tr
        except RiskError as exc:
            raise fail(str(exc)) from None


@risk_app.command("evaluate", help=help_(
    "Train on the early months, test on the last ones: AUC, top-decile precision, calibration, and the health "
    "score's AUC on the same customers and dates. Keeps nothing."))
def evaluate_command(test_months: TestMonths = 6, as_json: JsonOption = False, db: DbOption = None) -> None:
    from sucesso.insight.risk import evaluate

    report, tr = _run(db, lambda store: evaluate(store, test_months))
    print(json.dumps(report, indent=2)) if as_json else print_report(report, tr)


@risk_app.command("train", help=help_(
    "Evaluate as `risk evaluate` does, then fit on every month and keep the model in the workspace."))
def train_command(test_months: TestMonths = 6, as_json: JsonOption = False, db: DbOption = None) -> None:
    from sucesso.insight.risk import train

    report, tr = _run(db, lambda store: train(store, test_months))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print_report(report, tr)
    t = report["trained_on"]
    out.print(tr("model kept: fitted on %(examples)s customer-months (%(first)s to %(last)s), %(churned)s churned",
                 examples=format_value(t["examples"], "count", tr.language), first=t["dates"][0], last=t["dates"][1],
                 churned=format_value(t["churned"], "count", tr.language)))


def print_report(r: dict, tr) -> None:
    test, trained = r["test"], r["train"]

    def n(value, unit: str = "count", pattern: str | None = None) -> str:
        return format_value(value, unit, tr.language, pattern=pattern)

    out.print(tr("Tested on %(first)s to %(last)s (%(examples)s customer-months, %(churned)s churned in %(days)s "
                 "days); trained on %(train_first)s to %(train_last)s (%(train_examples)s).",
                 first=test["dates"][0], last=test["dates"][1], examples=n(test["examples"]),
                 churned=n(test["churned"]), days=r["horizon_days"], train_first=trained["dates"][0],
                 train_last=trained["dates"][1], train_examples=n(trained["examples"])))
    table = Table(title_justify="left")
    for column in ("", N_("churn-risk model"), N_("health score")):
        table.add_column(tr(column) if column else "", justify="left" if not column else "right")
    table.add_row("AUC", n(r["auc"], "number", "0.000"), n(r["health_auc"], "number", "0.000"))
    table.add_row(tr("churn rate among the riskiest 10%"), n(r["top_decile_precision"], "rate"), "")
    table.add_row(tr("churn rate overall"), n(r["base_rate"], "rate"), "")
    table.add_row(tr("Brier score (lower is better)"), n(r["brier"], "number", "0.0000"), "")
    out.print(table)
    cal = Table(title=tr("Calibration: deciles of predicted risk"), title_justify="left")
    for column in (N_("decile"), N_("customer-months"), N_("predicted"), N_("observed")):
        cal.add_column(tr(column), justify="right")
    for i, b in enumerate(r["calibration"], start=1):
        cal.add_row(str(i), n(b["examples"]), n(b["predicted"], "rate"), n(b["observed"], "rate"))
    out.print(cal)


@risk_app.command("score", help=help_(
    "Each customer's chance of churning in the next 90 days, riskiest first, with the top reasons."))
def score_command(
    as_of: AsOfOption = None,
    account: Annotated[str | None, typer.Option(help=help_("One account."))] = None,
    limit: Annotated[int, typer.Option(help=help_("Rows to print (JSON has them all)."), min=1)] = 20,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.health.signals import SIGNALS
    from sucesso.insight.risk import score_accounts

    report, tr = _run(db, lambda store: score_accounts(store, parse_day(as_of), account))
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        return
    table = Table(title=tr("Churn risk in the %(days)s days after %(as_of)s (model trained %(trained)s)",
                           days=report["horizon_days"], as_of=report["as_of"], trained=report["trained_at"][:16]),
                  title_justify="left")
    for column in (N_("account"), N_("name"), N_("risk"), N_("top reasons (raising the risk)")):
        table.add_column(tr(column), justify="right" if column == "risk" else "left")
    for a in report["accounts"][:limit]:
        reasons = "; ".join(f"{x['feature']} = {short_value(x['value'], tr)}" for x in a["reasons"])
        table.add_row(a["account_id"], a["name"] or "", format_value(a["risk"], "rate", tr.language, pattern="#,##0%"),
                      reasons)
    out.print(table)
    shown = [x["feature"] for a in report["accounts"][:limit] for x in a["reasons"]]
    for name in dict.fromkeys(f for f in shown if f in SIGNALS):
        out.print(f"[dim]{name}: {SIGNALS[name].meaning}[/]")
