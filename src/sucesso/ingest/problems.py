"""What goes wrong with input, said so a person can fix it: file, row, column, value, expected."""

from __future__ import annotations

import csv
from dataclasses import astuple, dataclass, fields

from sucesso.ingest.formulas import neutralise


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the file as a whole
    column: str
    value: str | None
    expected: str

    def __str__(self) -> str:
        if self.row is None and not self.column:
            return f"{self.file}: {self.expected}"  # the file as a whole: `expected` holds the whole message
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is None or self.value == "":
            got = "(empty)" if self.row is not None else ""
        else:
            got = repr(self.value if len(self.value) <= 60 else self.value[:57] + "...")
        return f"{where}: {got + ' — ' if got else ''}expected {self.expected}"


class RejectedFile(Exception):
    """The file as a whole cannot be read; nothing was written."""

    def __init__(self, file: str, message: str):
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message

    @property
    def problem(self) -> Problem:
        return Problem(self.file, None, "", None, self.message)


def write_problems(path: str, problems: list[Problem]) -> None:
    """The full list as CSV (UTF-8 with BOM, so spreadsheet apps read the accents; formulas
    neutralised, `ingest.formulas`)."""
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(Problem)])
        for p in problems:
            writer.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else v for v in astuple(p)])
