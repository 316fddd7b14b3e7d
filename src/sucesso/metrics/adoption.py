"""adoption KPIs (METRICS.md)."""
