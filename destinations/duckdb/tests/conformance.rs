//! The shared conformance suite (`destination::conformance`) against a fresh DuckDB file per scenario.

use destination::Destination;
use destination::conformance::Names;
use duckdb_dest::{DuckDbConfig, DuckDbDestination};

struct Fixture {
    destination: DuckDbDestination,
    _dir: tempfile::TempDir,
}

impl AsRef<dyn Destination> for Fixture {
    fn as_ref(&self) -> &(dyn Destination + 'static) {
        &self.destination
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = DuckDbConfig::new(dir.path().join("conformance.duckdb"), "conformance_data");
    Fixture {
        destination: DuckDbDestination::new(config).expect("valid config"),
        _dir: dir,
    }
}

fn names(fixture: &Fixture) -> Names {
    Names {
        dataset: fixture.destination.config().dataset_name.clone(),
    }
}

destination::conformance_tests!(fixture, names);
