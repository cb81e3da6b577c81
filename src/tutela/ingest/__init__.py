"""Loading customer data drops (CSV/TSV in any common encoding, Parquet, JSON, Excel)."""

from tutela.ingest.load import LoadResult, SchemaChange, load_files, table_name_for

__all__ = ["LoadResult", "SchemaChange", "load_files", "table_name_for"]
