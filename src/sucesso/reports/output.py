"""Writing a success review to files: review-<account_id>-<period>.html and/or .pdf."""

from __future__ import annotations

from pathlib import Path

from sucesso.reports.pdf import review_pdf
from sucesso.reports.render import file_name, review_html

FORMATS = ("html", "pdf")


def write_review(review: dict, folder: str | Path = ".", formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the review (review.success_review's dict) in each of `formats` into `folder`
    (created if needed); the paths written, in that order."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; the formats are {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / file_name(review, fmt)
        if fmt == "html":
            path.write_text(review_html(review), encoding="utf-8")
        else:
            path.write_bytes(review_pdf(review))
        paths.append(path)
    return paths
