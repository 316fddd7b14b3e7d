"""Everything about one account, for the account 360 page: its MRR month by month, its health
history with components, its contacts, and one timeline of what happened — daily usage,
tickets, survey answers, invoices, CS activities and churn requests, newest first."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sucesso.metrics.mrr import mrr_at
from sucesso.metrics.periods import add_months, periods
from sucesso.metrics.registry import Context


def _one_account(store, sql: str, account_id: str) -> pd.DataFrame:
    """A plain-SQL lookup of one account's rows (DuckDB and PostgreSQL alike): for a single
    account, building an Ibis query costs more than running it."""
    cursor_rows, columns = store.fetchall_with_columns(sql, (account_id,))
    return pd.DataFrame(cursor_rows, columns=columns)


def profile(store, account_id: str) -> dict | None:
    rows = _one_account(store, "SELECT a.*, c.name AS csm_name FROM accounts a LEFT JOIN csms c "
                               "ON c.csm_id = a.csm_id WHERE a.account_id = ?", account_id)
    return rows.to_dict("records")[0] if len(rows) else None


def mrr_history(store, account_id: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """period (YYYY-MM), mrr: the account's MRR just before the end of each month."""
    con = store.ibis()
    months = periods(first, last)
    subs = con.table("subscriptions")
    with Context(con, months) as ctx:
        paid = con.execute(mrr_at(subs.filter(subs.account_id == account_id), ctx.instants(lambda p: p.end)))
    by_index = dict(zip(paid["idx"], paid["mrr"].astype(float), strict=True))
    return pd.DataFrame({"period": [p.label for p in months], "mrr": [by_index.get(p.index, 0.0) for p in months]})


def health_history(store, account_id: str) -> pd.DataFrame:
    """as_of, score, band, components (JSON text) from the kept history."""
    from sucesso.health.history import history

    return history(store, account_id)


def contacts(store, account_id: str) -> pd.DataFrame:
    return _one_account(store, "SELECT * FROM contacts WHERE account_id = ? ORDER BY name, contact_id", account_id)


TIMELINE_SQL = """
SELECT * FROM (
  SELECT date_trunc('day', occurred_at) AS happened, 'usage' AS kind,
         CAST(count(*) AS TEXT) || ' events' AS title,
         CAST(count(DISTINCT contact_id) AS TEXT) || ' users, ' || CAST(count(DISTINCT event) AS TEXT) || ' features'
           AS detail
    FROM usage_events WHERE account_id = ? AND occurred_at >= ? GROUP BY date_trunc('day', occurred_at)
  UNION ALL
  SELECT opened_at, 'ticket', COALESCE(category, 'ticket'), COALESCE(priority, '') || ' ' || COALESCE(channel, '')
    FROM tickets WHERE account_id = ? AND opened_at >= ?
  UNION ALL
  SELECT answered_at, survey, UPPER(survey) || ' ' || CAST(score AS TEXT), COALESCE(comment, '')
    FROM survey_responses WHERE account_id = ? AND answered_at >= ?
  UNION ALL
  SELECT issued_at, 'invoice', CAST(amount AS TEXT) || ' ' || status, COALESCE(category, '')
    FROM invoices WHERE account_id = ? AND issued_at >= ?
  UNION ALL
  SELECT occurred_at, 'cs_activity', kind, COALESCE(notes, '')
    FROM cs_activities WHERE account_id = ? AND occurred_at >= ?
  UNION ALL
  SELECT requested_at, 'churn_request', reason_code || ': ' || outcome, COALESCE(reason_detail, '')
    FROM churn_requests WHERE account_id = ? AND requested_at >= ?
) AS lines ORDER BY happened DESC LIMIT ?
"""


def timeline(store, account_id: str, since: dt.date, limit: int = 200) -> pd.DataFrame:
    """at, kind, title, detail: the account's events on or after `since`, newest first
    (usage as one line per active day). Plain SQL that DuckDB and PostgreSQL both run: a
    lookup of one account, where building the query is the cost, not running it."""
    lo = dt.datetime(since.year, since.month, since.day)
    rows, _columns = store.fetchall_with_columns(TIMELINE_SQL, (account_id, lo) * 6 + (limit,))
    return pd.DataFrame(rows, columns=["at", "kind", "title", "detail"])


def span_for(last_day: dt.date, months: int = 24) -> tuple[dt.date, dt.date]:
    last = last_day.replace(day=1)
    return add_months(last, -(months - 1)), last
