"""Reports for the customer: the success review of one account for a period, in the customer's
language — choices.py (which account, period and language), review.py (the data: a plain dict),
render.py (its sections in words; HTML with inline CSS and SVG), pdf.py (PDF with reportlab),
charts.py (matplotlib figures), output.py (the files)."""

from sucesso.reports.choices import AccountNotFound, ReviewSpan, find_account, review_language, review_span
from sucesso.reports.review import success_review

__all__ = ["AccountNotFound", "ReviewSpan", "find_account", "review_language", "review_span", "success_review"]
