//! One output from normalizers that ran side by side, each on its own resources: the schema is the one
//! a single normalizer would have evolved taking the resources in a given order, whatever the threads'
//! timing.

use std::collections::{BTreeMap, HashMap};

use package::schema::{Schema, Table};
use serde_json::Value;

use crate::NormalizeOutput;
use crate::error::NormalizeError;

/// Merges the outputs of normalizers that each started from `base` (the schema they were given) and
/// each normalized resources no other one did. Tables of `base` keep their place (with the changes of
/// the one normalizer that touched them); new tables follow, grouped by the resource whose rows created
/// them, resources in `order` (others after them, in the outputs' order), each normalizer's creation
/// order kept within a resource. The version is bumped once, against `base`. A table that two
/// normalizers both created or changed is refused: the resources were not disjoint.
pub fn merge_outputs(
    base: &Schema,
    parts: Vec<NormalizeOutput>,
    order: &[&str],
) -> Result<NormalizeOutput, NormalizeError> {
    let mut merged = base.clone();
    let base_index: HashMap<&str, usize> = base
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut changed: HashMap<usize, Table> = HashMap::new();
    // (rank of the resource, part, position in the part, table)
    let mut new_tables: Vec<(usize, usize, usize, Table)> = Vec::new();
    let mut claimed: HashMap<String, usize> = HashMap::new();
    let mut files = Vec::new();
    let mut rows_per_table: BTreeMap<String, u64> = BTreeMap::new();

    for (p, part) in parts.into_iter().enumerate() {
        let roots = root_resources(&part.schema);
        for (position, table) in part.schema.tables.into_iter().enumerate() {
            match base_index.get(table.name.as_str()) {
                Some(&i) if base.tables[i] == table => continue,
                _ => {}
            }
            if let Some(other) = claimed.insert(table.name.clone(), p)
                && other != p
            {
                return Err(NormalizeError::Conflict { table: table.name });
            }
            match base_index.get(table.name.as_str()) {
                Some(&i) => {
                    changed.insert(i, table);
                }
                None => {
                    let rank = roots
                        .get(position)
                        .and_then(|r| r.as_deref())
                        .and_then(|r| order.iter().position(|o| *o == r))
                        .unwrap_or(order.len());
                    new_tables.push((rank, p, position, table));
                }
            }
        }
        merge_json(
            &mut merged.normalizers,
            &base.normalizers,
            part.schema.normalizers,
        );
        merge_json(&mut merged.settings, &base.settings, part.schema.settings);
        files.extend(part.files);
        for (table, rows) in part.rows_per_table {
            *rows_per_table.entry(table).or_default() += rows;
        }
    }
    for (i, table) in changed {
        if let Some(slot) = merged.tables.get_mut(i) {
            *slot = table;
        }
    }
    new_tables.sort_by_key(|(rank, p, position, _)| (*rank, *p, *position));
    merged
        .tables
        .extend(new_tables.into_iter().map(|(_, _, _, table)| table));
    merged.bump_version_if_modified();
    Ok(NormalizeOutput {
        schema: merged,
        files,
        rows_per_table,
    })
}

/// The resource of each table's root table (following parent links), by table position.
fn root_resources(schema: &Schema) -> Vec<Option<String>> {
    let by_name: HashMap<&str, &Table> = schema.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    schema
        .tables
        .iter()
        .map(|table| {
            let mut current = table;
            // a parent chain is never longer than the table count; the bound guards a corrupt cycle
            for _ in 0..schema.tables.len() {
                match current.parent.as_deref().and_then(|p| by_name.get(p)) {
                    Some(parent) => current = parent,
                    None => break,
                }
            }
            current.resource.clone()
        })
        .collect()
}

/// Applies to `merged` what `part` changed relative to `base`: objects key by key (recursively), other
/// values whole.
fn merge_json(merged: &mut Value, base: &Value, part: Value) {
    if part == *base {
        return;
    }
    match (merged, base, part) {
        (Value::Object(merged), Value::Object(base), Value::Object(part)) => {
            for (key, value) in part {
                match (merged.get_mut(&key), base.get(&key)) {
                    (Some(m), Some(b)) => merge_json(m, b, value),
                    // another part added it: merge with it
                    (Some(m), None) => merge_json(m, &Value::Object(serde_json::Map::new()), value),
                    (None, _) => {
                        merged.insert(key, value);
                    }
                }
            }
        }
        (merged, _, part) => *merged = part,
    }
}
