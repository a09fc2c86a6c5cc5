//! Normalize: Looker items into dlt-compatible relational tables written as Parquet.
