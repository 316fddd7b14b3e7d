"""A synthetic Customer Success company to try sucesso on: `generate()` yields every canonical
table as Arrow record batches, with real cause and effect between usage, support, surveys,
billing and churn."""

from sucesso.demo.generator import arrow_schema, generate

__all__ = ["arrow_schema", "generate"]
