"""unit_economics KPIs (METRICS.md)."""
