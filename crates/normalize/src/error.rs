//! Errors of the normalize stage, named by what the caller does next.

use std::path::PathBuf;

/// Why normalizing a page or finishing the load package failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NormalizeError {
    /// The page body is not a JSON array (not JSON, not UTF-8, or another JSON value). The page cannot
    /// be used: report it with the resource and fetch it again or skip the resource. Nothing of the page
    /// was written when the fault is before its first item; items before a malformed one were.
    #[error("page of resource {table:?} is not a JSON array of items: {reason} at byte {offset}")]
    MalformedPage {
        /// The root table (resource) the page was for.
        table: String,
        /// Byte offset of the problem in the page.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// An item has no value for a column that may not be null (a primary key, or a column hinted
    /// `nullable: false`). dlt refuses such data too: fix the hint or the data and rerun.
    #[error("table {table:?}: column {column:?} may not be null, but an item has no value for it")]
    MissingRequiredValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A value fits neither its column nor the variant column made for its type (dlt's
    /// `CannotCoerceColumnException`). Add a column hint (e.g. `data_type: text`) and rerun.
    #[error(
        "table {table:?}: a {value_type} value fits neither its column nor variant column {column:?} of type {column_type}"
    )]
    UncoercibleValue {
        /// The table.
        table: String,
        /// The variant column that refused the value.
        column: String,
        /// dlt's type of the value.
        value_type: String,
        /// The variant column's type.
        column_type: String,
    },
    /// Normalizers run side by side both created or changed one table: the resources given to them were
    /// not disjoint. Normalize them with one normalizer.
    #[error("table {table:?} was written by two normalizers running side by side")]
    Conflict {
        /// The table.
        table: String,
    },
    /// Creating or writing a job file failed (disk full, permissions, a bug in the Arrow/Parquet
    /// layer). Fix the environment and normalize the extracted data again; files written so far belong
    /// to a package that is not complete.
    #[error("table {table:?}: could not write job file {}: {source}", path.display())]
    WriteFile {
        /// The table the file is for.
        table: String,
        /// The file (empty when it could not be created).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
