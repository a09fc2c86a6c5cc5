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
