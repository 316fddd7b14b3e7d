"""The workspace's health model and the score history (table health_scores, one row per
customer and day): computing it, reading it back, and scoring any date on the fly.

History for a span of days is written in one transaction that first deletes the span's
rows: a killed run leaves the old history, a re-run gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa

from sucesso.health.model import ModelFile, load_model
from sucesso.health.score import components_json, score
from sucesso.health.signals import CHUNK_DAYS, signals
from sucesso.metrics.registry import NO_GROUP
from sucesso.store import get_setting, set_setting
from sucesso.store.schema import arrow_schema, table

MODEL_SETTING = "health_model"
HISTORY = table("health_scores")


def workspace_model(store) -> ModelFile:
    """The model the workspace uses: the one adopted with `sucesso health model FILE`, or the default."""
    return load_model(get_setting(store, MODEL_SETTING) or None, "the workspace's health model")


def adopt_model(store, model_file: ModelFile) -> None:
    set_setting(store, MODEL_SETTING, model_file.text)


def default_as_of(store, today: dt.date | None = None) -> dt.date:
    """Today, or the day after the workspace's data ends if it ends earlier (a demo, an old export)."""
    from sucesso.metrics.api import data_end

    today = today or dt.date.today()
    end = data_end(store)
    return min(today, end.date() + dt.timedelta(days=1)) if end is not None else today


def scores_on(store, dates: list[dt.date], model_file: ModelFile | None = None,
              with_signals: bool = False, accounts: list[str] | None = None) -> pd.DataFrame:
    """Scores (score.py's columns) of every customer (or of `accounts`) on each date, computed now."""
    model_file = model_file or workspace_model(store)
    sig = signals(store, dates, model_file.base.satisfaction_window_days, accounts)
    scored = score(sig, model_file)
    if with_signals:
        scored = scored.merge(sig, on=["account_id", "as_of"], how="left")
    return scored


def days(first: dt.date, last: dt.date, every: int = 1) -> list[dt.date]:
    return [first + dt.timedelta(days=d) for d in range(0, (last - first).days + 1, every)]


def compute_history(store, first: dt.date, last: dt.date, model_file: ModelFile | None = None,
                    on_progress: Callable[[dt.date], None] | None = None) -> int:
    """Score every customer on every day from first to last and keep it; returns rows written."""
    model_file = model_file or workspace_model(store)
    dates = days(first, last)

    def batches() -> Iterator[pa.RecordBatch]:
        for i in range(0, len(dates), CHUNK_DAYS):
            chunk = dates[i:i + CHUNK_DAYS]
            scored = scores_on(store, chunk, model_file)
            scored = scored[scored["band"] != "missing"]
            if on_progress:
                on_progress(chunk[-1])
            yield pa.RecordBatch.from_pandas(pd.DataFrame({
                "account_id": scored["account_id"], "as_of": scored["as_of"], "score": scored["score"].round(4),
                "band": scored["band"], "model": scored["model"], "components": components_json(scored),
            }), schema=arrow_schema(HISTORY), preserve_index=False)

    return store.replace_rows(HISTORY, "as_of >= ? AND as_of <= ?", (first, last), batches())


def history(store, account_id: str | None = None, first: dt.date | None = None,
            last: dt.date | None = None, on: list[dt.date] | None = None, segment: str | None = None) -> pd.DataFrame:
    """Stored scores: account_id, as_of, score, band, model, components (JSON text); of one
    account, from `first` to `last`, on the days `on`, of the accounts of `segment` — as given."""
    con = store.ibis()
    h = con.table(HISTORY.name)
    if account_id is not None:
        h = h.filter(h.account_id == account_id)
    if on is not None:
        h = h.filter(h.as_of.isin(on))
    if segment:
        accounts = con.table("accounts")
        h = h.semi_join(accounts.filter(accounts.segment.fill_null(NO_GROUP) == segment), "account_id")
    if first is not None:
        h = h.filter(h.as_of >= first)
    if last is not None:
        h = h.filter(h.as_of <= last)
    frame = con.execute(h.order_by(["as_of", "account_id"]))
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def history_span(store) -> tuple[dt.date, dt.date] | None:
    rows = store.fetchall(f"SELECT min(as_of), max(as_of) FROM {HISTORY.name}")
    return (rows[0][0], rows[0][1]) if rows and rows[0][0] is not None else None


def first_day(store) -> dt.date | None:
    """The first day anyone can have a score: the day after the first subscription starts."""
    rows = store.fetchall("SELECT min(started_at) FROM subscriptions")
    return pd.Timestamp(rows[0][0]).date() + dt.timedelta(days=1) if rows and rows[0][0] is not None else None


def trend(store, account_id: str | None = None, every_days: int = 7, segment: str | None = None) -> pd.DataFrame:
    """From the kept history, every `every_days` days back from the last one: the band mix and
    mean score of all customers (of `segment`, if given) — as_of, customers, mean_score, one
    column per band — or one account's score and band (as_of, score, band)."""
    span = history_span(store)
    if span is None:
        return history(store, account_id)
    first, last = span
    sampled = [last - dt.timedelta(days=d) for d in range(0, (last - first).days + 1, every_days)]
    kept = history(store, account_id, on=sampled, segment=segment)
    if kept.empty:
        return kept
    if account_id is not None:
        return kept[["as_of", "score", "band"]].reset_index(drop=True)
    mix = kept.pivot_table(index="as_of", columns="band", values="account_id", aggfunc="count", fill_value=0)
    order = [b for m in workspace_model(store).models for b in m.bands]
    mix = mix[sorted(mix.columns, key=lambda b: order.index(b) if b in order else len(order))]
    summary = kept.groupby("as_of").agg(customers=("account_id", "count"), mean_score=("score", "mean"))
    return summary.join(mix).reset_index()


def component_averages(store, on: dt.date, segment: str | None = None) -> dict:
    """The mean of each score component over the customers scored on the last kept day up to `on`
    (those of `segment`), and how many customers had it (a component can be missing)."""
    rows = store.fetchall(f"SELECT max(as_of) FROM {HISTORY.name} WHERE as_of <= ?", (on,))
    day = rows[0][0] if rows else None
    if day is None:
        return {"as_of": None, "customers": 0, "components": []}
    scored = history(store, on=[day], segment=segment)
    parts = pd.DataFrame([json.loads(text) for text in scored["components"]], dtype="float64")
    return {"as_of": pd.Timestamp(day).date().isoformat(), "customers": len(scored),
            "components": [{"component": c, "mean": None if pd.isna(m := parts[c].mean()) else float(m),
                            "customers": int(parts[c].notna().sum())} for c in parts.columns]}
