//! Table chains: a root table and its nested (child) tables, which load, replace and merge together.

use package::schema::{Schema, Table, WriteDisposition};

use crate::dialect::SqlError;
use crate::dlt_tables::{ROOT_KEY, ROW_KEY};

/// The root table of `table_name`, following `parent` links. `None` when the table or one of its
/// ancestors is not in the schema, or the links form a cycle.
pub fn root_table<'a>(schema: &'a Schema, table_name: &str) -> Option<&'a Table> {
    let mut table = schema.table(table_name)?;
    // A chain longer than the schema has tables is a cycle.
    for _ in 0..=schema.tables.len() {
        match &table.parent {
            None => return Some(table),
            Some(parent) => table = schema.table(parent)?,
        }
    }
    None
}

/// The write disposition of `table_name`: its root table's, defaulting to `append` as dlt does.
/// `None` when the table is not in the schema.
pub fn write_disposition(schema: &Schema, table_name: &str) -> Option<WriteDisposition> {
    root_table(schema, table_name).map(|root| root.write_disposition.unwrap_or(WriteDisposition::Append))
}

/// The chain of `root_name`: the root first, then every table descending from it, parents before
/// children, in schema order within a level.
pub fn table_chain<'a>(schema: &'a Schema, root_name: &str) -> Vec<&'a Table> {
    let Some(root) = schema.table(root_name) else {
        return Vec::new();
    };
    let mut chain = vec![root];
    let mut next = 0;
    while next < chain.len() {
        let parent = chain[next].name.as_str();
        for table in &schema.tables {
            let is_child = table.parent.as_deref() == Some(parent);
            if is_child && !chain.iter().any(|t| t.name == table.name) {
                chain.push(table);
            }
        }
        next += 1;
    }
    chain
}

/// The chain of `root` (see [`table_chain`]) limited to the tables with columns: the ones that exist at
/// the destination.
pub fn stored_chain<'a>(schema: &'a Schema, root: &str) -> Vec<&'a Table> {
    table_chain(schema, root)
        .into_iter()
        .filter(|t| !t.columns.is_empty())
        .collect()
}

/// The row key column of `table`: the column hinted `row_key`, else `_dlt_id`.
pub fn row_key_column(table: &Table) -> Result<&str, SqlError> {
    table
        .columns
        .iter()
        .find(|c| c.row_key)
        .or_else(|| table.column(ROW_KEY))
        .map(|c| c.name.as_str())
        .ok_or_else(|| SqlError::MissingKey {
            table: table.name.clone(),
            key: "row key (_dlt_id)",
        })
}

/// The root key column of a nested `table`: the column hinted `root_key`, else `_dlt_root_id`.
pub fn root_key_column(table: &Table) -> Result<&str, SqlError> {
    table
        .columns
        .iter()
        .find(|c| c.root_key)
        .or_else(|| table.column(ROOT_KEY))
        .map(|c| c.name.as_str())
        .ok_or_else(|| SqlError::MissingKey {
            table: table.name.clone(),
            key: "root key (_dlt_root_id)",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use package::schema::Column;

    fn table(name: &str, parent: Option<&str>, wd: Option<WriteDisposition>) -> Table {
        Table {
            name: name.into(),
            columns: vec![Column {
                name: "_dlt_id".into(),
                ..Column::default()
            }],
            write_disposition: wd,
            parent: parent.map(Into::into),
            ..Table::default()
        }
    }

    fn schema() -> Schema {
        Schema {
            name: "s".into(),
            tables: vec![
                table("users", None, Some(WriteDisposition::Merge)),
                table("users__roles", Some("users"), None),
                table("looks", None, None),
                table("users__roles__scopes", Some("users__roles"), None),
                table("users__tags", Some("users"), None),
            ],
            ..Schema::default()
        }
    }

    #[test]
    fn chains_follow_parents() {
        let s = schema();
        let names: Vec<_> = table_chain(&s, "users").iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["users", "users__roles", "users__tags", "users__roles__scopes"]
        );
        assert_eq!(table_chain(&s, "looks").len(), 1);
        assert!(table_chain(&s, "missing").is_empty());
    }

    #[test]
    fn dispositions_come_from_the_root() {
        let s = schema();
        assert_eq!(
            write_disposition(&s, "users__roles__scopes"),
            Some(WriteDisposition::Merge)
        );
        assert_eq!(write_disposition(&s, "looks"), Some(WriteDisposition::Append));
        assert_eq!(write_disposition(&s, "nope"), None);
        assert_eq!(
            root_table(&s, "users__tags").map(|t| t.name.as_str()),
            Some("users")
        );
    }

    #[test]
    fn parent_cycles_have_no_root() {
        let mut s = schema();
        s.tables.push(table("a", Some("b"), None));
        s.tables.push(table("b", Some("a"), None));
        assert!(root_table(&s, "a").is_none());
    }

    #[test]
    fn keys_fall_back_to_dlt_names() {
        let s = schema();
        assert_eq!(row_key_column(&s.tables[0]).ok(), Some("_dlt_id"));
        assert!(root_key_column(&s.tables[1]).is_err());
    }
}
