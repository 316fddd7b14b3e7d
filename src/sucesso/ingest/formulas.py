"""Spreadsheet formulas in the CSV files sucesso writes for people (OWASP's "CSV injection").

A cell a spreadsheet app would run as a formula — text starting with =, +, -, @, a tab or a
carriage return — is written with a single quote before it, so that Excel or LibreOffice shows
it as text: `=HYPERLINK("http://x.example", "click")` is written `'=HYPERLINK(…)`. A plain
number (-5, +55, -1.234,56) cannot call anything and is written as it is. Text that already
starts with quotes before such a character gets one quote more, so that the rule can be undone
exactly: `restore(neutralise(text)) == text` for every text.

sucesso writes two such files: the rows `--skip-invalid` rejected (NAME.rejected.csv, whose
header starts `row,problems`) and the `--errors-file` list. A rejected-rows file is meant to be
fixed and imported again: read back (as CSV, TSV or XLSX, its header intact), its `row` and
`problems` columns are left out and the quote the rule added is taken off — in that file only;
in any other file a leading quote is the file's own text. `sucesso export` writes Parquet, typed
values no spreadsheet evaluates: nothing there to neutralise.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

REJECTED_HEADER = ("row", "problems")  # the first columns of a rejected-rows file
FORMULA = r"'*[=+\-@\t\r]"  # after any quotes, a character that starts a formula
NUMBER = r"'*[+-]?[0-9.,]*[0-9][0-9.,]*"  # a plain number (after any quotes)


def _formula_like(text: str) -> bool:
    return re.match(FORMULA, text) is not None and re.fullmatch(NUMBER, text) is None


def neutralise(text: str) -> str:
    """The cell as a spreadsheet app shows it as text (a quote before a formula)."""
    return "'" + text if _formula_like(text) else text


def restore(text: str) -> str:
    """The text `neutralise` was given."""
    return text[1:] if text.startswith("'") and _formula_like(text) else text


def _formula_mask(values: pa.Array, prefix: str) -> pa.Array:
    return pc.and_(pc.match_substring_regex(values, "^" + prefix + FORMULA),
                   pc.invert(pc.match_substring_regex(values, "^" + prefix + NUMBER + "$")))


def neutralise_array(values: pa.Array) -> pa.Array:
    """`neutralise` on every text of an Arrow column (other types are returned as they are)."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return values
    quoted = pc.binary_join_element_wise("'", values, "")
    return pc.if_else(_formula_mask(values, ""), quoted, values)


def restore_array(values: pa.Array) -> pa.Array:
    """`restore` on every text of an Arrow column (other types are returned as they are)."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return values
    return pc.if_else(_formula_mask(values, "'"), pc.utf8_slice_codeunits(values, 1), values)


def is_rejected_rows(columns: list[str]) -> bool:
    """Whether a header is that of a rejected-rows file sucesso wrote."""
    return tuple(columns[:2]) == REJECTED_HEADER
