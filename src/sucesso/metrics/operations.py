"""operations KPIs (METRICS.md)."""
