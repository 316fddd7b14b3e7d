"""The review's chart, drawn with matplotlib (Agg, no display, no global pyplot state): usage events
per month as bars (the review's months darker) and active users as a line, labelled in the
review's language. SVG text for the HTML (inline, self-contained), PNG bytes for the PDF."""

from __future__ import annotations

import datetime as dt
import io
import re

from babel.dates import format_date
from babel.numbers import format_decimal
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sucesso.formatting import babel_locale

EVENTS, EVENTS_BEFORE, USERS = "#2454a6", "#9fb4dc", "#e07b00"
SIZE = (7.5, 2.8)  # inches: the PDF's text width


def usage_figure(months: list[dict], labels: dict[str, str], language: str) -> Figure:
    """`months` as review["usage"]; `labels`: the translated "events" and "users" legend names."""
    locale = babel_locale(language)
    count = FuncFormatter(lambda v, _pos: format_decimal(v, "#,##0", locale=locale))
    x = range(len(months))
    fig = Figure(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(x, [m["events"] for m in months], color=[EVENTS if m["in_period"] else EVENTS_BEFORE for m in months],
           label=labels["events"])
    ax.set_xticks(list(x), [format_date(dt.date.fromisoformat(m["month"] + "-01"), "MMM yy", locale=locale)
                            for m in months], fontsize=8)
    users = ax.twinx()
    users.plot(list(x), [m["active_users"] for m in months], color=USERS, marker="o", linewidth=2,
               label=labels["users"])
    for axis, colour, key in ((ax, EVENTS, "events"), (users, USERS, "active_users")):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        axis.yaxis.set_major_formatter(count)
        axis.tick_params(axis="y", labelsize=8, colors=colour)
        axis.set_ylim(0, max([1] + [m[key] for m in months]) * 1.15)  # room above the highest point
        axis.spines[["top"]].set_visible(False)
    handles = [h for a in (ax, users) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8, frameon=False, ncols=2,
              bbox_to_anchor=(0, 1.18))
    return fig


def svg(fig: Figure) -> str:
    """The figure as an <svg> element to inline in HTML: no XML prolog, scaled to its container."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 width="100%" role="img"', text, count=1)


def png(fig: Figure, dpi: int = 200) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
