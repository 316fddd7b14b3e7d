"""Insight: churn risk, survival, retention forecasts and success factors (DESIGN.md)."""
