"""Plotly figures as the pages embed them (JSON, drawn by static/app.js), in the page's language."""

from __future__ import annotations

import json

import plotly.graph_objects as go

BAND_COLOURS = {"red": "#c62828", "yellow": "#e0a800", "green": "#2e7d32", "missing": "#8a93a3"}
LAYOUT = dict(margin=dict(l=50, r=20, t=30, b=40), height=320, legend=dict(orientation="h", y=-0.2),
              paper_bgcolor="white", plot_bgcolor="white", hovermode="x unified")


def figure_json(fig: go.Figure) -> str:
    """The figure as JSON safe inside a <script> element. A figure whose points link somewhere
    (customdata, followed by static/app.js) is hovered point by point: a unified hover reports
    every trace's point of the month at once, and the click could not tell which one was meant."""
    if any(trace.customdata is not None for trace in fig.data):
        fig.update_layout(hovermode="closest")
    return fig.to_json().replace("</", "<\\/")


def lines(x: list, series: dict[str, list], title: str = "", percent: bool = False, separators: str = ".,") -> str:
    fig = go.Figure([go.Scatter(x=x, y=y, name=name, mode="lines+markers") for name, y in series.items()])
    fig.update_layout(**LAYOUT, title=title, separators=separators)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return figure_json(fig)


def bars(x: list, series: dict[str, list], title: str = "", stacked: bool = False, colours: dict | None = None,
         links: dict[str, list] | None = None, separators: str = ".,", percent: bool = False) -> str:
    fig = go.Figure([go.Bar(x=x, y=y, name=name, marker_color=(colours or {}).get(name),
                            customdata=(links or {}).get(name)) for name, y in series.items()])
    fig.update_layout(**LAYOUT, title=title, barmode="stack" if stacked else "group", separators=separators)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return figure_json(fig)


def waterfall(labels: list[str], values: list[float], title: str = "", separators: str = ".,",
              links: list[str | None] | None = None) -> str:
    """Start, the movements, end: the first and last are totals; `links`, one per bar (or None)."""
    measure = ["absolute", *["relative"] * (len(values) - 2), "total"]
    fig = go.Figure(go.Waterfall(x=labels, y=values, measure=measure, connector=dict(line=dict(color="#aab")),
                                 customdata=links))
    fig.update_layout(**{**LAYOUT, "hovermode": "closest"}, title=title, separators=separators, showlegend=False)
    return figure_json(fig)


def heatmap(rows: list[str], columns: list[str], z: list[list], title: str = "", separators: str = ".,") -> str:
    fig = go.Figure(go.Heatmap(z=z, x=columns, y=rows, colorscale="RdYlGn", zmin=0, zmax=1,
                               hovertemplate="%{y} · %{x}: %{z:.0%}<extra></extra>"))
    fig.update_layout(**{**LAYOUT, "height": 420, "hovermode": "closest"}, title=title, separators=separators)
    fig.update_yaxes(autorange="reversed", type="category")
    return figure_json(fig)


def separators_for(language: str) -> str:
    """Plotly's decimal and thousands separators: "," and "." in Portuguese."""
    return ",." if language == "pt_BR" else ".,"


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
