"""Health as the CLI, the web app and the API show it: per customer, the score and band on a
date, each component with its weight, contribution and signals, the change since an earlier
date and the words for it (explain.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sucesso.health.explain import events_between, explain
from sucesso.health.history import default_as_of, scores_on, workspace_model
from sucesso.health.model import ModelFile
from sucesso.health.score import components_of


def health_report(store, as_of: dt.date | None = None, since_days: int = 30, account_id: str | None = None,
                  band: str | None = None, model_file: ModelFile | None = None,
                  locale: str | None = None) -> dict:
    """{"as_of", "since", "model", "accounts": [...]}: worst score first."""
    model_file = model_file or workspace_model(store)
    as_of = as_of or default_as_of(store)
    since = as_of - dt.timedelta(days=since_days)
    both = scores_on(store, [since, as_of], model_file, with_signals=True)
    now, before = both[both["as_of"] == as_of], both[both["as_of"] == since]
    if account_id is not None:
        if account_id not in set(now["account_id"]):
            raise LookupError(_not_scored(store, account_id, as_of))
        now = now[now["account_id"] == account_id]
    if band is not None:
        now = now[now["band"] == band]
    now = now.sort_values(["score", "account_id"], na_position="last")
    words = explain(now, before, events_between(store, since, as_of, list(now["account_id"])), since, locale)
    names = account_names(store, list(now["account_id"]))
    previous = before.set_index("account_id")["score"]
    reads = _signals_read(model_file)
    accounts = []
    for row in now.to_dict("records"):
        prev = previous.get(row["account_id"])
        change = row["rounded"] - np.floor(prev + 0.5) if prev is not None else None
        accounts.append({
            "account_id": row["account_id"], "name": names.get(row["account_id"]),
            "score": _num(row["score"]), "rounded": _num(row["rounded"]), "band": row["band"], "model": row["model"],
            "previous_score": _num(prev), "change": _num(change),
            "components": [_component(c, row, reads.get(c, [])) for c in components_of(now)
                           if not pd.isna(row.get(f"{c}__weight"))],
            "changes": words.get(row["account_id"], []),
        })
    return {"as_of": as_of.isoformat(), "since": since.isoformat(), "model": model_file.name, "accounts": accounts}


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
