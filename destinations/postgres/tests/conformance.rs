//! The shared conformance suite (`destination::conformance`) against a fresh schema per scenario on the
//! test server (see `common` for how the server is found); each scenario drops its schemas at the end.

mod common;

use destination::conformance::Names;
use postgres_dest::PostgresDestination;

fn names(destination: &PostgresDestination) -> Names {
    Names {
        dataset: destination.config().dataset_name.clone(),
    }
}

/// One test per scenario of `destination::conformance_tests!`, returning early without a server.
macro_rules! postgres_conformance {
    ($($scenario:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let Some(url) = common::server_url(stringify!($scenario)) else {
                    return;
                };
                let destination = common::destination(&url, "conf");
                destination::conformance::$scenario(&destination, &names(&destination)).await;
            }
        )+
    };
}

postgres_conformance!(
    all_types_round_trip,
    schema_evolution_adds_column,
    child_table_linked,
    job_twice_no_duplicates,
    append_doubles,
    replace_twice_same_count,
    replace_with_no_rows_empties_the_chain,
    replace_is_atomic,
    merge_dedups_and_replaces_children,
    dlt_tables_as_dlt,
    hostile_identifiers,
);
