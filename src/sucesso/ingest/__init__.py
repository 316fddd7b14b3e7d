"""Ingest: read, map, parse, validate and upsert — the only way data gets in."""

from sucesso.ingest.export import export_workspace
from sucesso.ingest.importer import ImportOptions, ImportReport, import_dir, import_file, write_batches
from sucesso.ingest.problems import Problem, RejectedFile

__all__ = ["ImportOptions", "ImportReport", "Problem", "RejectedFile", "export_workspace", "import_dir",
           "import_file", "write_batches"]
