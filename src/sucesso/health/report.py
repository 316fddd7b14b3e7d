"""Health as the CLI, the web app and the API show it: per customer, the score and band on a
date, each component with its weight, contribution and signals, the change since an earlier
date and the words for it (explain.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sucesso.health.explain import events_between, explain
from sucesso.health.history import default_as_of, scores_on, workspace_model
from sucesso.health.model import ModelFile
from sucesso.health.score import components_of


@dataclass
class HealthInputs:
    """What a health report is made of, computed once: scores and signals on both dates, the
    events between them, the account names. Reports for one account or one band, in any
    language, are then cheap (the web app keeps one of these)."""

    as_of: dt.date
    since: dt.date
    model_file: ModelFile
    now: pd.DataFrame
    before: pd.DataFrame
    events: pd.DataFrame
    names: dict[str, str]


def health_inputs(store, as_of: dt.date | None = None, since_days: int = 30, model_file: ModelFile | None = None,
                  accounts: list[str] | None = None) -> HealthInputs:
    model_file = model_file or workspace_model(store)
    as_of = as_of or default_as_of(store)
    since = as_of - dt.timedelta(days=since_days)
    both = scores_on(store, [since, as_of], model_file, with_signals=True, accounts=accounts)
    now, before = both[both["as_of"] == as_of], both[both["as_of"] == since]
    ids = list(now["account_id"])
    return HealthInputs(as_of, since, model_file, now, before, events_between(store, since, as_of, ids),
                        account_names(store, ids))


def health_report(store, as_of: dt.date | None = None, since_days: int = 30, account_id: str | None = None,
                  band: str | None = None, model_file: ModelFile | None = None,
                  locale: str | None = None) -> dict:
    """{"as_of", "since", "model", "accounts": [...]}: worst score first."""
    only = [account_id] if account_id is not None else None
    inputs = health_inputs(store, as_of, since_days, model_file, only)
    if account_id is not None and account_id not in inputs.names:
        raise LookupError(_not_scored(store, account_id, inputs.as_of))
    return report_from(inputs, account_id, band, locale)


def report_from(inputs: HealthInputs, account_id: str | None = None, band: str | None = None,
                locale: str | None = None) -> dict:
    """The report of `health_report` from computed inputs (an unknown account gives no rows)."""
    now, before = inputs.now, inputs.before
    if account_id is not None:
        now = now[now["account_id"] == account_id]
    if band is not None:
        now = now[now["band"] == band]
    now = now.sort_values(["score", "account_id"], na_position="last")
    events = inputs.events[inputs.events["account_id"].isin(now["account_id"])]
    words = explain(now, before, events, inputs.since, locale)
    previous = before.set_index("account_id")["score"]
    reads = _signals_read(inputs.model_file)
    accounts = []
    for row in now.to_dict("records"):
        prev = previous.get(row["account_id"])
        change = row["rounded"] - np.floor(prev + 0.5) if prev is not None else None
        accounts.append({
            "account_id": row["account_id"], "name": inputs.names.get(row["account_id"]),
            "score": _num(row["score"]), "rounded": _num(row["rounded"]), "band": row["band"], "model": row["model"],
            "previous_score": _num(prev), "change": _num(change),
            "components": [_component(c, row, reads.get(c, [])) for c in components_of(now)
                           if not pd.isna(row.get(f"{c}__weight"))],
            "changes": words.get(row["account_id"], []),
        })
    return {"as_of": inputs.as_of.isoformat(), "since": inputs.since.isoformat(), "model": inputs.model_file.name,
            "accounts": accounts}


def _signals_read(model_file: ModelFile) -> dict[str, list[str]]:
    """Component (or rule) name → the signals it reads, over the base model and its variants."""
    reads: dict[str, list[str]] = {}
    for model in model_file.models:
        for name, component in (model.components or {}).items():
            reads.setdefault(name, list(component.signals))
        for name, rule in (model.rules or {}).items():
            reads.setdefault(name, [rule.signal])
    return reads


def _component(name: str, row: dict, signal_names: list[str]) -> dict:
    value = row.get(name)
    return {"name": name, "score": _num(value), "missing": bool(pd.isna(value)),
            "weight": _num(row[f"{name}__weight"]), "contribution": _num(row[f"{name}__contribution"]),
            "signals": {s: _num(row.get(s)) for s in signal_names}}


def _num(value):
    if value is None or pd.isna(value):
        return None
    return round(float(value), 4)


def account_names(store, ids: list[str]) -> dict[str, str]:
    con = store.ibis()
    accounts = con.table("accounts")
    frame = con.execute(accounts.filter(accounts.account_id.isin(ids)).select("account_id", "name"))
    return dict(zip(frame["account_id"], frame["name"], strict=True))


def _not_scored(store, account_id: str, as_of: dt.date) -> str:
    known = store.fetchall("SELECT 1 FROM accounts WHERE account_id = ?", (account_id,))
    if not known:
        return f"no account {account_id!r} in the workspace"
    return f"account {account_id!r} was not a paying customer on {as_of.isoformat()}, so it has no health score"
