//! The hints each resource's tables are normalized with: the catalogue's defaults (write disposition,
//! primary key), the configured resource hints (`[sources.looker_data_source.resources.<name>]`), and
//! the json hints of `open_maps_as_json` for Looker's open-ended maps.

use std::collections::BTreeMap;

use looker::Resource;
use normalize::{ColumnHint, DataType, NestedTableHints, TableHints};

use crate::config::Settings;

/// Looker's open-ended maps: objects keyed by a customer's LookML field names (`Query.filters`,
/// `Query.filter_config`) or with a free set of keys (`vis_config`). dlt's normalizer makes a column
/// or child table of every key, so each new field of a customer's model adds columns or tables.
/// `open_maps_as_json` keeps each of them whole as one `json` column.
///
/// Per resource: (nested table path below the root, `[]` for the root table; columns of that table).
pub fn open_maps(resource: Resource) -> &'static [(&'static [&'static str], &'static [&'static str])] {
    const QUERY: &[&str] = &["filters", "filter_config", "vis_config"];
    const EMBEDDED_QUERY: &[&str] = &["query__filters", "query__filter_config", "query__vis_config"];
    const ELEMENT: &[&str] = &[
        "vis_config",
        "query__filters",
        "query__filter_config",
        "query__vis_config",
        "result_maker__vis_config",
        "result_maker__query__filters",
        "result_maker__query__filter_config",
        "result_maker__query__vis_config",
        "look__query__filters",
        "look__query__filter_config",
        "look__query__vis_config",
    ];
    match resource {
        Resource::Queries => &[(&[], QUERY)],
        Resource::Looks => &[(&[], EMBEDDED_QUERY)],
        Resource::Dashboards => &[(&["dashboard_elements"], ELEMENT)],
        _ => &[],
    }
}

fn json_hint(name: &str) -> ColumnHint {
    ColumnHint {
        name: name.to_owned(),
        data_type: Some(DataType::Json),
        nullable: Some(true),
    }
}

/// Adds `hint` to `columns` unless a column of that name is hinted already (configured hints win).
fn add_column(columns: &mut Vec<ColumnHint>, hint: ColumnHint) {
    if !columns.iter().any(|c| c.name == hint.name) {
        columns.push(hint);
    }
}

/// The hints of each resource's tables, by resource name.
pub fn table_hints(settings: &Settings, resources: &[Resource]) -> BTreeMap<String, TableHints> {
    resources
        .iter()
        .map(|&resource| {
            let spec = resource.spec();
            let configured = settings.resources.get(resource.name());
            let write_disposition = configured
                .and_then(|h| h.write_disposition)
                .unwrap_or(spec.write_disposition);
            let primary_key = configured
                .and_then(|h| h.primary_key.clone())
                .unwrap_or_else(|| vec![spec.primary_key.to_owned()]);
            let mut hints = TableHints {
                write_disposition: Some(write_disposition),
                primary_key,
                ..TableHints::default()
            };
            if let Some(configured) = configured {
                hints.merge_key = configured.merge_key.clone().unwrap_or_default();
                hints.max_table_nesting = configured.max_table_nesting;
                hints.columns = configured.columns.clone();
                hints.nested = configured
                    .nested_hints
                    .iter()
                    .map(|(path, nested)| NestedTableHints {
                        path: vec![path.clone()],
                        columns: nested.columns.clone(),
                    })
                    .collect();
            }
            if settings.looker.open_maps_as_json.unwrap_or(false) {
                for (path, columns) in open_maps(resource) {
                    if path.is_empty() {
                        for column in *columns {
                            add_column(&mut hints.columns, json_hint(column));
                        }
                        continue;
                    }
                    let path: Vec<String> = vec![path.join("__")];
                    let index = match hints.nested.iter().position(|n| n.path == path) {
                        Some(index) => index,
                        None => {
                            hints.nested.push(NestedTableHints {
                                path,
                                columns: Vec::new(),
                            });
                            hints.nested.len() - 1
                        }
                    };
                    for column in *columns {
                        add_column(&mut hints.nested[index].columns, json_hint(column));
                    }
                }
            }
            (resource.name().to_owned(), hints)
        })
        .collect()
}

/// More columns and tables than this made from one open-ended map in one load draw a warning.
pub const OPEN_MAP_WARNING_THRESHOLD: usize = 20;

/// The columns and tables one of Looker's open-ended maps has produced in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenMapUse {
    /// The resource.
    pub resource: Resource,
    /// The table holding the map (`queries`, `dashboards__dashboard_elements`).
    pub table: String,
    /// The map's column path in that table (`filters`, `query__vis_config`).
    pub column: String,
    /// Columns of `table` named after the map's keys (`filters__orders_created_date`).
    pub columns: Vec<String>,
    /// Child tables named after the map's keys.
    pub tables: Vec<String>,
}

impl OpenMapUse {
    /// The configuration lines that keep this map whole as JSON.
    pub fn config_line(&self) -> String {
        let root = self.resource.name();
        let section = "sources.looker_data_source.resources";
        match self.table.strip_prefix(&format!("{root}__")) {
            Some(nested) => format!(
                "[{section}.{root}.nested_hints.{nested}.columns] {} = {{ data_type = \"json\" }}",
                self.column
            ),
            None => format!(
                "[{section}.{root}.columns] {} = {{ data_type = \"json\" }}",
                self.column
            ),
        }
    }
}

/// Every open-ended map of `resources` that `schema` has unnested into columns or tables.
pub fn open_map_uses(schema: &package::schema::Schema, resources: &[Resource]) -> Vec<OpenMapUse> {
    let mut uses = Vec::new();
    for &resource in resources {
        let Some(root) = schema
            .tables
            .iter()
            .find(|t| t.resource.as_deref() == Some(resource.name()) && t.parent.is_none())
        else {
            continue;
        };
        for (path, maps) in open_maps(resource) {
            let table_name = if path.is_empty() {
                root.name.clone()
            } else {
                format!("{}__{}", root.name, path.join("__"))
            };
            let Some(table) = schema.table(&table_name) else {
                continue;
            };
            for map in *maps {
                let prefix = format!("{map}__");
                let columns: Vec<String> = table
                    .columns
                    .iter()
                    .filter(|c| c.name.starts_with(&prefix))
                    .map(|c| c.name.clone())
                    .collect();
                let table_prefix = format!("{table_name}__{map}__");
                let tables: Vec<String> = schema
                    .tables
                    .iter()
                    .filter(|t| t.name.starts_with(&table_prefix))
                    .map(|t| t.name.clone())
                    .collect();
                if !columns.is_empty() || !tables.is_empty() {
                    uses.push(OpenMapUse {
                        resource,
                        table: table_name.clone(),
                        column: (*map).to_owned(),
                        columns,
                        tables,
                    });
                }
            }
        }
    }
    uses
}

/// Warns once per open-ended map that gained more than [`OPEN_MAP_WARNING_THRESHOLD`] columns and
/// tables between `before` and `after` (one load), naming the config line that stores it as JSON.
/// Returns the maps warned about.
pub fn warn_open_map_growth(
    before: &package::schema::Schema,
    after: &package::schema::Schema,
    resources: &[Resource],
) -> Vec<OpenMapUse> {
    let old = open_map_uses(before, resources);
    let mut warned = Vec::new();
    for now in open_map_uses(after, resources) {
        let was = old
            .iter()
            .find(|u| u.table == now.table && u.column == now.column);
        let new_columns = now
            .columns
            .iter()
            .filter(|c| was.is_none_or(|w| !w.columns.contains(c)))
            .count();
        let new_tables = now
            .tables
            .iter()
            .filter(|t| was.is_none_or(|w| !w.tables.contains(t)))
            .count();
        if new_columns + new_tables > OPEN_MAP_WARNING_THRESHOLD {
            tracing::warn!(
                map = %format!("{}.{}", now.table, now.column),
                new_columns,
                new_tables,
                "an open-ended Looker map made {new_columns} columns and {new_tables} tables named after \
                 its keys in this load; to keep it as one JSON column, add to .dlt/config.toml: {} \
                 (or set [sources.looker_data_source] open_maps_as_json = true for all of them)",
                now.config_line()
            );
            warned.push(now);
        }
    }
    warned
}

#[cfg(test)]
mod tests {
    use super::*;
    use package::schema::{Column, Schema, Table};

    fn table(name: &str, resource: Option<&str>, parent: Option<&str>, columns: &[&str]) -> Table {
        Table {
            name: name.to_owned(),
            columns: columns
                .iter()
                .map(|c| Column {
                    name: (*c).to_owned(),
                    ..Column::default()
                })
                .collect(),
            write_disposition: None,
            resource: resource.map(str::to_owned),
            parent: parent.map(str::to_owned),
            x_normalizer: serde_json::Map::new(),
        }
    }

    #[test]
    fn growth_past_the_threshold_is_reported_with_the_config_line() {
        let before = Schema::new("s");
        let mut after = Schema::new("s");
        let many: Vec<String> = (0..25).map(|i| format!("filters__field_{i}")).collect();
        let mut cols: Vec<&str> = vec!["id", "vis_config__type"];
        cols.extend(many.iter().map(String::as_str));
        after.tables.push(table("queries", Some("queries"), None, &cols));
        after
            .tables
            .push(table("dashboards", Some("dashboards"), None, &["id"]));
        after.tables.push(table(
            "dashboards__dashboard_elements",
            None,
            Some("dashboards"),
            &["query__vis_config__x"],
        ));
        let uses = open_map_uses(&after, &Resource::ALL);
        assert_eq!(uses.len(), 3, "{uses:?}");
        let warned = warn_open_map_growth(&before, &after, &Resource::ALL);
        assert_eq!(warned.len(), 1, "only filters passed the threshold: {warned:?}");
        assert_eq!(warned[0].columns.len(), 25);
        assert_eq!(
            warned[0].config_line(),
            "[sources.looker_data_source.resources.queries.columns] filters = { data_type = \"json\" }"
        );
        let element = uses
            .iter()
            .find(|u| u.table == "dashboards__dashboard_elements")
            .expect("element");
        assert_eq!(
            element.config_line(),
            "[sources.looker_data_source.resources.dashboards.nested_hints.dashboard_elements.columns] \
             query__vis_config = { data_type = \"json\" }"
        );
        // The same columns in the next load are not new: no warning.
        assert!(warn_open_map_growth(&after, &after, &Resource::ALL).is_empty());
    }
}
