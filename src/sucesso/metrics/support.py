"""support KPIs (METRICS.md)."""
