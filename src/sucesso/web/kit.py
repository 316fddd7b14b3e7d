"""What the data pages (revenue, satisfaction, support, health) share: KPI series and cards
from the precomputed table, line and bar-and-line figures, the JSON twin's filters and a
per-workspace cache for the few results that cost a query."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go

from sucesso.metrics.periods import parse_month
from sucesso.metrics.targets import goal
from sucesso.web import charts
from sucesso.web.filters import Filters
from sucesso.web.tables import plain


@dataclass(frozen=True)
class Lines:
    """A line chart of KPIs over the months: (key, label) per line; `right` keys on a second axis;
    `below_zero` labels the zero line when a value falls under it."""

    id: str
    title: str
    series: tuple[tuple[str, str], ...]
    percent: bool = False
    right: tuple[str, ...] = ()
    below_zero: str | None = None


def kpi_data(f: Filters, kpis: pd.DataFrame, cards: Iterable[tuple[str, str, str]], keys: Iterable[str],
             goals: pd.DataFrame | None = None) -> dict:
    """What every data page starts from: the months, each KPI's series, the last month's cards
    ({key, label, unit, value}, and their target status with `goals`) — all read from the
    precomputed KPI table."""
    keys = list(dict.fromkeys(keys))
    if kpis.empty:
        return {"filters": f, "period": None, "months": [], "series": {k: [] for k in keys}, "cards": []}
    return {"filters": f, "period": kpis["period"].iloc[-1], "months": list(kpis["period"]),
            "series": {k: [plain(v) for v in kpis[k]] for k in keys}, "cards": last_values(kpis, cards, goals)}


def last_values(kpis: pd.DataFrame, cards: Iterable[tuple[str, str, str]],
                goals: pd.DataFrame | None = None) -> list[dict]:
    """{key, label, unit, value} of the last month, per (key, label, unit); given `goals` (the
    targets table), also {target, direction, status} against the target of that month."""
    if kpis.empty:
        return []
    last = kpis.iloc[-1]
    month = parse_month(last["period"])
    return [{"key": k, "label": label, "unit": unit, "value": plain(last[k]),
             **(goal(goals, k, last[k], month) if goals is not None else {})} for k, label, unit in cards]


def chart_keys(charts_: Iterable[Lines]) -> list[str]:
    return [key for c in charts_ for key, _label in c.series]


def api_json(data: dict) -> dict:
    """The JSON twin of a page's data: the filters as plain values."""
    f: Filters = data["filters"]
    return {**data, "filters": {"from": f.first, "to": f.last, "segment": f.segment, **f.keep}}


def in_segment(frame: pd.DataFrame, segment: str) -> pd.DataFrame:
    """Rows of one segment ("" = all; "—" = accounts without one, as the KPI table names them)."""
    if not segment or frame.empty:
        return frame
    return frame[frame["segment"].fillna("—") == segment]


def cached(workspace, key: tuple, compute: Callable[[], object]):
    """compute() once per key, kept on the workspace until its precomputed tables change (a
    refresh after an import). For the few page results that cost a query."""
    cache = getattr(workspace, "_page_cache", None)
    if cache is None or cache["kpis"] is not workspace.kpis:
        cache = {"kpis": workspace.kpis}
        workspace._page_cache = cache
    if key not in cache:
        cache[key] = compute()
    return cache[key]


# The accounts behind a KPI in a month, as a filter of the accounts page (pages/accounts.py): the
# MRR movements the KPI is made of (?moved=, insight.accounts.moved) or what its accounts did that
# month (?activity=, insight.accounts.active). The 12-month retention KPIs have no such list.
EVERY_MOVE = "moved=new,reactivation,expansion,contraction,churn"
ACCOUNTS_BEHIND = {
    "mrr": EVERY_MOVE, "net_new_mrr": EVERY_MOVE, "quick_ratio": EVERY_MOVE,
    "logo_churn_rate": "moved=churn", "gross_mrr_churn_rate": "moved=contraction,churn",
    "net_mrr_churn_rate": "moved=reactivation,expansion,contraction,churn",
    "nrr": "moved=expansion,contraction,churn", "grr": "moved=contraction,churn",
    "nps": "activity=nps", "csat": "activity=csat", "csat_mean": "activity=csat", "ces": "activity=ces",
    "ces_easy_share": "activity=ces", "tickets_per_customer": "activity=tickets",
    "first_response_hours_median": "activity=tickets", "first_response_hours_p90": "activity=tickets",
    "fcr": "activity=resolved", "resolution_hours_median": "activity=resolved",
    "resolution_hours_p90": "activity=resolved", "activation_rate": "activity=signup",
    "time_to_first_value_days_median": "activity=signup", "adoption_rate": "activity=usage",
    "active_accounts": "activity=usage", "stickiness": "activity=usage", "seat_utilisation": "activity=usage",
}


def accounts_links(behind: str, months: list[str], segment: str = "") -> list[str]:
    """Per month, the accounts page listing the accounts `behind` (a filter: "moved=churn") a
    point of that month, within the page's segment."""
    within = f"&{urlencode({'segment': segment})}" if segment else ""
    return [f"/accounts?{behind}&month={m}{within}" for m in months]


def kpi_links(key: str, months: list[str], segment: str = "") -> list[str] | None:
    """The links of a KPI's points to the accounts behind them (None: no sensible list)."""
    return accounts_links(ACCOUNTS_BEHIND[key], months, segment) if key in ACCOUNTS_BEHIND else None


def _layout(fig: go.Figure, separators: str, percent: bool, right: bool) -> str:
    fig.update_layout(**charts.LAYOUT, separators=separators)
    if percent:
        fig.update_layout(yaxis_tickformat=".0%")
    if right:
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", showgrid=False, rangemode="tozero"))
    return charts.figure_json(fig)


def line_figure(months: list, series: dict[str, list], names: dict[str, str], percent: bool = False,
                right: Iterable[str] = (), separators: str = ".,", below_zero: str | None = None,
                links: dict[str, list] | None = None) -> str:
    """One line per KPI (`names`: key → translated name); `below_zero` labels a zero line when a
    value falls under it (negative churn); `links`: key → a link per point (the accounts behind it)."""
    right, links = set(right), links or {}
    fig = go.Figure([go.Scatter(x=months, y=series[k], name=name, mode="lines+markers", customdata=links.get(k),
                                yaxis="y2" if k in right else "y") for k, name in names.items()])
    if below_zero and any(v is not None and v < 0 for k in names for v in series[k]):
        fig.add_hline(y=0, line_dash="dot", line_color="#5b6474", annotation_text=below_zero,
                      annotation_position="bottom left")
    return _layout(fig, separators, percent, bool(right))


def bars_and_line(x: list, bars: list[tuple[str, list, str | None, list | None]], line: tuple[str, list],
                  separators: str = ".,", line_links: list | None = None) -> str:
    """Bars stacked (negatives below the axis), each (name, values, colour, links), and one line
    on a second axis — MRR movements with MRR, NPS answers with NPS, health bands with the mean score."""
    traces = [go.Bar(x=x, y=values, name=name, marker_color=colour, customdata=links)
              for name, values, colour, links in bars]
    traces.append(go.Scatter(x=x, y=line[1], name=line[0], mode="lines+markers", yaxis="y2",
                             line=dict(color="#1d2330"), customdata=line_links))
    fig = go.Figure(traces)
    fig.update_layout(barmode="relative")
    return _layout(fig, separators, False, True)


def line_figures(data: dict, charts_: Iterable[Lines], _, separators: str) -> dict[str, str]:
    """The figures of `charts_` from the page's series, in the page's language, each point linking
    to the accounts behind it where there is such a list (ACCOUNTS_BEHIND)."""
    if not data["months"]:
        return {}
    months, segment = data["months"], data["filters"].segment
    links = {k: kpi_links(k, months, segment) for k in chart_keys(charts_)}
    return {c.id: line_figure(months, data["series"], {k: _(label) for k, label in c.series}, c.percent,
                              c.right, separators, c.below_zero and _(c.below_zero), links) for c in charts_}
