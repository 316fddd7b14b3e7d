"""Every KPI of METRICS.md, defined once as an Ibis expression (see registry.py)."""

from sucesso.metrics.api import kpi_rows, kpis

__all__ = ["kpi_rows", "kpis"]
