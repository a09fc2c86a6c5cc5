//! The key catalogue: section paths, the keys valid in each of looker-load's own sections, which
//! keys are secrets, and "did you mean" suggestions.

/// Name of the Looker source, as in dlt's `@dlt.source def looker_data_source(...)`.
pub(crate) const SOURCE_NAME: &str = "looker_data_source";
/// Name of the module the source lives in for dlt (`looker.py`), the middle section of dlt's
/// full source path `sources.looker.looker_data_source`.
pub(crate) const SOURCE_MODULE: &str = "looker";
/// The canonical section, used in error messages.
pub(crate) const SOURCE_SECTION: &str = "sources.looker_data_source";

/// Keys of the Looker source section.
pub(crate) const SOURCE_KEYS: &[&str] = &[
    "base_url",
    "client_id",
    "client_secret",
    "access_token",
    "resources",
    "page_size",
    "max_attempts",
    "request_timeout",
    "max_retry_delay",
    "concurrency",
    "open_maps_as_json",
];

/// Per-resource hint keys implemented now.
pub(crate) const HINT_KEYS: &[&str] = &[
    "write_disposition",
    "primary_key",
    "merge_key",
    "max_table_nesting",
    "columns",
    "nested_hints",
];

/// Per-resource hints dlt knows that are not implemented yet. Ignoring them would change the
/// loaded tables, so they are refused.
pub(crate) const UNSUPPORTED_HINT_KEYS: &[&str] = &[
    "table_name",
    "schema_contract",
    "file_format",
    "table_format",
    "references",
    "incremental",
];

/// Keys of `[destination.postgres.credentials]`.
pub(crate) const POSTGRES_CREDENTIAL_KEYS: &[&str] = &[
    "database",
    "username",
    "password",
    "host",
    "port",
    "connect_timeout",
    "sslmode",
    "sslrootcert",
    "client_encoding",
    "drivername",
];

/// Query parameters accepted in a Postgres connection string.
pub(crate) const POSTGRES_URL_PARAMS: &[&str] =
    &["sslmode", "sslrootcert", "connect_timeout", "client_encoding"];

/// Keys of `[destination.duckdb.credentials]` when it is a table.
pub(crate) const DUCKDB_CREDENTIAL_KEYS: &[&str] = &["database", "global_config"];

/// dlt's DuckDB connection tuning keys: accepted for compatibility, ignored with a warning.
pub(crate) const DUCKDB_IGNORED_CREDENTIAL_KEYS: &[&str] =
    &["read_only", "extensions", "pragmas", "local_config"];

/// Keys dlt accepts in any `[destination.<name>]` section that tune dlt's own loader. They are
/// accepted so an existing dlt project keeps working, and ignored with a warning.
pub(crate) const DLT_DESTINATION_KEYS: &[&str] = &[
    "destination_name",
    "environment",
    "replace_strategy",
    "staging_dataset_name_layout",
    "enable_dataset_name_normalization",
    "info_tables_query_threshold",
    "truncate_tables_on_staging_destination_before_load",
    "create_indexes",
    "csv_format",
    "local_dir",
    "pipeline_working_dir",
    "legacy_db_path",
];

/// Key names that hold secrets wherever they appear in looker-load's sections and in
/// `[destination.*]` / `[credentials]`: never read from `config.toml`.
pub(crate) const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "access_token",
    "password",
    "private_key",
    "private_key_passphrase",
    "aws_secret_access_key",
    "aws_session_token",
    "azure_storage_account_key",
    "azure_storage_sas_token",
    "azure_client_secret",
    "refresh_token",
];

/// The section paths dlt tries for a key of the Looker source, most specific first (dlt drops
/// the rightmost section and inserts the "compact" `sources.<source name>` path third).
/// The bare key (dlt's fifth try) is deliberately not read; see the module documentation.
pub(crate) fn source_sections() -> [Vec<String>; 4] {
    [
        path(&["sources", SOURCE_MODULE, SOURCE_NAME]),
        path(&["sources", SOURCE_MODULE]),
        path(&["sources", SOURCE_NAME]),
        path(&["sources"]),
    ]
}

/// Owned copy of a key path.
pub(crate) fn path(segments: &[&str]) -> Vec<String> {
    segments.iter().map(|s| (*s).to_owned()).collect()
}

/// `base` followed by `tail`.
pub(crate) fn join(base: &[String], tail: &[&str]) -> Vec<String> {
    base.iter()
        .cloned()
        .chain(tail.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// The environment variable for a key path: upper case, `__` between sections.
pub(crate) fn env_name<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|s| s.as_ref().to_uppercase())
        .collect::<Vec<_>>()
        .join("__")
}

/// The dotted form of a key path.
pub(crate) fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    path.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(".")
}

/// Whether a key name is a secret.
pub(crate) fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// The closest of `candidates` to `given`, if close enough to be a likely typo.
pub(crate) fn suggest(given: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let given = given.to_lowercase();
    let limit = (given.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(&given, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent characters each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggest("clientid", SOURCE_KEYS), Some("client_id"));
        assert_eq!(suggest("page_sise", SOURCE_KEYS), Some("page_size"));
        assert_eq!(suggest("cleint_secret", SOURCE_KEYS), Some("client_secret"));
        assert_eq!(suggest("PAGE_SIZE", SOURCE_KEYS), Some("page_size"));
        assert_eq!(suggest("warehouse", SOURCE_KEYS), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
