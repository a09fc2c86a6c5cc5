//! The generated dataset.

use crate::MockConfig;

/// The data a [`crate::MockServer`] serves, generated lazily and deterministically from the
/// configured sizes and seed.
#[derive(Debug)]
pub struct Dataset {
    users: usize,
    looks: usize,
    dashboards: usize,
    seed: u64,
}

impl Dataset {
    /// The dataset of a configuration (cheap: items are generated on demand).
    pub fn new(config: &MockConfig) -> Self {
        Dataset { users: config.users, looks: config.looks, dashboards: config.dashboards, seed: config.seed }
    }

    /// Number of items the list endpoint of `resource` serves; for `"queries"`, the number of
    /// distinct query ids referenced by looks, dashboard elements and scheduled plans.
    pub fn count(&self, resource: &str) -> usize {
        let _ = self.seed;
        match resource {
            "users" => self.users,
            "looks" => self.looks,
            "dashboards" => self.dashboards,
            _ => 0,
        }
    }

    /// Item `index` (0-based, in id order) of `resource`, exactly as served.
    pub fn item(&self, resource: &str, index: usize) -> Option<serde_json::Value> {
        let _ = (resource, index);
        None
    }

    /// The query with this id, as `GET /queries/{id}` serves it.
    pub fn query(&self, id: &str) -> Option<serde_json::Value> {
        let _ = id;
        None
    }

    /// Every query id referenced by looks, dashboard elements and scheduled plans, sorted
    /// numerically, each once.
    pub fn referenced_query_ids(&self) -> Vec<String> {
        Vec::new()
    }
}
