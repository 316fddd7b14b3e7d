"""satisfaction KPIs (METRICS.md)."""
