//! The relational normalizer: dlt's `relational.py` (flattening, nested tables, `_dlt_*` columns) and
//! `jsonl.py` (type inference, coercion, variant columns), feeding the per-table writers.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use package::schema::{Column, DataType, Schema, Table, WriteDisposition};
use serde_json::Value;

use crate::coerce::{self, Cell, Val};
use crate::error::NormalizeError;
use crate::ids::RowIds;
use crate::json::{Tape, Tok, TokIdx, dedup_members, object_members};
use crate::naming::{EMPTY_KEY, SnakeCase, compute_tag, py_strip};
use crate::sink::JobSink;
use crate::writer::{TableWriter, WriteSettings, WrittenFile, cell_scale};
use crate::{ColumnHint, TableHints};

/// dlt's system columns.
const C_DLT_ID: &str = "_dlt_id";
const C_DLT_LOAD_ID: &str = "_dlt_load_id";
const C_DLT_PARENT_ID: &str = "_dlt_parent_id";
const C_DLT_LIST_IDX: &str = "_dlt_list_idx";
const C_DLT_ROOT_ID: &str = "_dlt_root_id";
const SYSTEM_COLUMNS: [&str; 5] = [
    C_DLT_ID,
    C_DLT_LOAD_ID,
    C_DLT_PARENT_ID,
    C_DLT_LIST_IDX,
    C_DLT_ROOT_ID,
];
/// dlt's default `max_nesting` of the relational normalizer.
const DEFAULT_MAX_NESTING: i64 = 1000;
/// The column hint marking the source path of a column or table whose name collided.
const SOURCE_PATH_HINT: &str = "x-source-path";
/// The key in a table's `x-normalizer` recording its source path after a collision.
const TABLE_SOURCE_HINT: &str = "source-path";

type NodeId = usize;
type TableId = usize;
type ColId = usize;

/// FxHash: fast hashing of short keys.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, i: usize) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Who a column or table name belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// dlt's own columns.
    System,
    /// A key path seen in this run.
    Node(NodeId),
    /// A variant column of a base column.
    Variant,
    /// A name from the stored schema whose source is unknown: the first claimant takes it.
    Unknown,
    /// A name from the stored schema recorded with its source path (after a collision).
    Source(Vec<String>),
}

/// A key path below a table's row: the interned unit of naming.
#[derive(Debug)]
struct Node {
    table: TableId,
    parent: Option<NodeId>,
    raw_key: Box<str>,
    /// This key normalized (`normalize_path`, `_empty` for a blank key).
    norm: String,
    /// The flattened column name (`shorten_fragments(*path, norm)`).
    flat_name: String,
    /// Dict depth below the row (1 for the row's own keys).
    depth: u32,
    /// A key of the row itself named `_dlt_id`: its value is the row id (dlt's behaviour).
    is_row_id: bool,
    children: FxMap<Box<[u8]>, NodeId>,
    first_child_hint: Option<NodeId>,
    next_hint: Option<NodeId>,
    stamp: u64,
    /// The name this path was given in its table (after collision handling).
    claimed: Option<String>,
    col: Option<ColId>,
    json_check: Option<(u64, bool)>,
    /// The table's column generation when `col` was last looked up and not found.
    col_checked: Option<u64>,
    child_table: Option<TableId>,
    saw_null: bool,
}

#[derive(Debug)]
struct ColState {
    column: Column,
    scale: u32,
    /// Variant columns by the value's dlt type.
    variants: [Option<ColId>; 11],
}

/// A hinted column waiting for data (dlt's incomplete column), or a complete hinted one.
#[derive(Debug)]
struct HintSlot {
    name: String,
    column: Column,
    col: Option<ColId>,
    /// A row had null here before the column existed.
    null_seen: bool,
}

#[derive(Debug)]
struct TableState {
    name: String,
    schema_idx: usize,
    fragments: Vec<String>,
    parent: Option<TableId>,
    /// Nested rows carry `_dlt_root_id` (merge chains).
    root_key: bool,
    root_node: NodeId,
    max_nesting: i64,
    cols: Vec<ColState>,
    col_by_name: FxMap<String, ColId>,
    order: Vec<ColId>,
    slots: Vec<HintSlot>,
    claims: FxMap<String, Owner>,
    col_gen: u64,
    new_cols: Vec<(ColId, usize)>,
    writer: TableWriter,
    rows: u64,
    sys: [Option<ColId>; 5],
}

/// Where a row's top-level members come from.
#[derive(Debug, Clone, Copy)]
enum RowSrc {
    Obj(TokIdx),
    /// A one-member row `{key: value}` (dlt's `{"value": v}` and `{"list": v}` wrappers).
    Wrap(&'static str, TokIdx),
}

/// Pending work of the depth-first walk over an item.
#[derive(Debug)]
enum Work {
    List {
        /// The list's key path (its nested table is resolved with the first element, as dlt creates
        /// tables with their first row).
        node: NodeId,
        cursor: TokIdx,
        end: TokIdx,
        idx: usize,
        lvl: i64,
        parent: (usize, usize),
        root: (usize, usize),
    },
}

/// Counts of one page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageStats {
    /// Items in the page (root rows).
    pub items: u64,
    /// Rows produced in all tables.
    pub rows: u64,
    /// Bytes of JSON read.
    pub bytes: u64,
}

pub(crate) struct Core {
    pub schema: Schema,
    naming: SnakeCase,
    tables: Vec<TableState>,
    table_by_name: FxMap<String, TableId>,
    table_owner: FxMap<String, Owner>,
    nodes: Vec<Node>,
    ids: RowIds,
    load_id: Arc<str>,
    hints: BTreeMap<String, TableHints>,
    settings: WriteSettings,
    pub files: Vec<WrittenFile>,
    obj_counter: u64,
    /// Bytes of rows buffered in all tables' column builders (approximately).
    buffered_bytes: usize,
    /// Memory of open row groups in all tables' Parquet writers.
    row_group_bytes: usize,
    /// `x-source-path` hints for columns not created yet.
    source_hints: FxMap<(TableId, String), Vec<String>>,
    // scratch buffers of the walk
    flat_cols: Vec<(NodeId, TokIdx)>,
    flat_lists: Vec<(NodeId, TokIdx)>,
    flat_stack: Vec<(RowSrc, i64, NodeId)>,
    cells_buf: Vec<(ColId, Cell<'static>)>,
    work_buf: Vec<Work>,
    id_arena: String,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("schema", &self.schema.name)
            .field("tables", &self.tables.len())
            .finish()
    }
}

impl Core {
    pub(crate) fn new(
        schema: Schema,
        naming: SnakeCase,
        load_id: &str,
        hints: BTreeMap<String, TableHints>,
        settings: WriteSettings,
        seed: Option<u64>,
    ) -> Core {
        let mut core = Core {
            schema,
            naming,
            tables: Vec::new(),
            table_by_name: FxMap::default(),
            table_owner: FxMap::default(),
            nodes: Vec::new(),
            ids: RowIds::new(seed),
            load_id: Arc::from(load_id),
            hints,
            settings,
            files: Vec::new(),
            obj_counter: 0,
            source_hints: FxMap::default(),
            buffered_bytes: 0,
            row_group_bytes: 0,
            flat_cols: Vec::new(),
            flat_lists: Vec::new(),
            flat_stack: Vec::new(),
            cells_buf: Vec::new(),
            work_buf: Vec::new(),
            id_arena: String::new(),
        };
        for table in &core.schema.tables {
            let owner = match source_path_of(&table.x_normalizer) {
                Some(path) => Owner::Source(path),
                None => Owner::Unknown,
            };
            core.table_owner.insert(table.name.clone(), owner);
        }
        core
    }

    /// Rows written per table (tables with rows only).
    pub(crate) fn rows_per_table(&self) -> BTreeMap<String, u64> {
        self.tables
            .iter()
            .filter(|t| t.rows > 0)
            .map(|t| (t.name.clone(), t.rows))
            .collect()
    }

    // ---------------------------------------------------------------------------------------------
    // tables and columns

    /// The root table for resource `resource`, created (or adopted from the stored schema) on first use.
    fn root_table(&mut self, resource: &str) -> TableId {
        let mut name = match self.naming.normalize_tables_path(resource) {
            n if n.is_empty() => EMPTY_KEY.to_owned(),
            n => n,
        };
        // a nested table (of another resource, in this run or a stored one) already has this name
        let nested_holder = self
            .table_by_name
            .get(&name)
            .is_some_and(|&id| self.tables[id].parent.is_some())
            || self.schema.table(&name).is_some_and(Table::is_nested);
        if nested_holder {
            let tag = compute_tag(resource);
            let renamed = self
                .naming
                .shorten(&format!("{name}_{tag}"), &format!("{resource}_{tag}"));
            tracing::warn!(
                resource,
                table = %name,
                renamed = %renamed,
                "a resource's table name is held by a nested table; the resource's table was renamed"
            );
            name = renamed;
        }
        if let Some(&id) = self.table_by_name.get(&name) {
            return id;
        }
        let hints = self.hints.get(resource).cloned().unwrap_or_default();
        let disposition = hints.write_disposition.unwrap_or(WriteDisposition::Append);
        let existing = self.schema.tables.iter().position(|t| t.name == name);
        let schema_idx = match existing {
            Some(idx) => {
                let table = &mut self.schema.tables[idx];
                table.write_disposition = Some(disposition);
                table.resource = Some(resource.to_owned());
                table.parent = None;
                idx
            }
            None => {
                self.schema.tables.push(Table {
                    name: name.clone(),
                    columns: Vec::new(),
                    write_disposition: Some(disposition),
                    resource: Some(resource.to_owned()),
                    parent: None,
                    x_normalizer: serde_json::Map::new(),
                });
                self.schema.tables.len() - 1
            }
        };
        if let Some(n) = hints.max_table_nesting {
            self.schema.tables[schema_idx]
                .x_normalizer
                .insert("max_nesting".to_owned(), Value::from(n));
        }
        let max_nesting = self.schema.tables[schema_idx]
            .max_nesting()
            .map_or(DEFAULT_MAX_NESTING, i64::from);
        let root_key = disposition == WriteDisposition::Merge;
        if root_key {
            self.schema.add_root_key_propagation(&name);
        }
        self.table_owner.insert(name.clone(), Owner::System);
        self.add_nested_hint_tables(&name, &hints);
        let id = self.add_table_state(name.clone(), schema_idx, vec![name], None, root_key, max_nesting);
        // hinted columns: complete ones now, incomplete ones (e.g. a primary key) when data arrives
        let mut slots: Vec<(String, Column, bool)> = Vec::new();
        for hint in &hints.columns {
            let col_name = self.normalize_column_name(&hint.name);
            let column = column_from_hint(&col_name, hint);
            slots.push((col_name, column, hint.data_type.is_some()));
        }
        let keys = hints
            .primary_key
            .iter()
            .map(|k| (k, true))
            .chain(hints.merge_key.iter().map(|k| (k, false)));
        for (key, primary) in keys {
            let col_name = self.normalize_column_name(key);
            let column = match slots.iter_mut().find(|(n, _, _)| *n == col_name) {
                Some((_, column, _)) => column,
                None => {
                    let column = Column {
                        name: col_name.clone(),
                        ..Column::default()
                    };
                    slots.push((col_name, column, false));
                    match slots.last_mut() {
                        Some((_, column, _)) => column,
                        None => continue,
                    }
                }
            };
            if primary {
                column.primary_key = true;
            } else {
                column.merge_key = true;
            }
            column.nullable = false;
        }
        for (col_name, column, complete) in slots {
            let table = &mut self.tables[id];
            table.claims.insert(col_name.clone(), Owner::Unknown);
            if let Some(&col) = table.col_by_name.get(&col_name) {
                // known from the stored schema: apply the key hints
                let state = &mut table.cols[col];
                state.column.primary_key |= column.primary_key;
                state.column.merge_key |= column.merge_key;
                if column.primary_key || column.merge_key {
                    state.column.nullable = false;
                }
                let updated = state.column.clone();
                if let Some(c) = self.schema.tables[schema_idx].column_mut(&col_name) {
                    *c = updated;
                }
                continue;
            }
            table.slots.push(HintSlot {
                name: col_name,
                column,
                col: None,
                null_seen: false,
            });
            if complete {
                let slot = table.slots.len() - 1;
                self.complete_slot(id, slot, None);
            }
        }
        id
    }

    /// Creates the tables of a root table's nested hints, as dlt does when the resource is declared:
    /// right after the root, with their hinted columns (typed ones; the rest wait for data). A table
    /// the stored schema has keeps its columns and gains the hinted ones it lacks. The normalizer then
    /// treats them as tables of the stored schema: a `json` column keeps its value whole.
    fn add_nested_hint_tables(&mut self, root: &str, hints: &TableHints) {
        for nested in &hints.nested {
            let mut fragments = vec![root.to_owned()];
            for level in &nested.path {
                let ident = self.naming.normalize_tables_path(level);
                fragments.push(if ident.is_empty() {
                    EMPTY_KEY.to_owned()
                } else {
                    ident
                });
            }
            if fragments.len() < 2 {
                continue;
            }
            let name = self
                .naming
                .shorten_fragments(fragments.iter().map(String::as_str));
            let parent = self
                .naming
                .shorten_fragments(fragments[..fragments.len() - 1].iter().map(String::as_str));
            let columns: Vec<Column> = nested
                .columns
                .iter()
                .filter(|hint| hint.data_type.is_some())
                .map(|hint| column_from_hint(&self.normalize_column_name(&hint.name), hint))
                .collect();
            match self.schema.tables.iter().position(|t| t.name == name) {
                Some(idx) => {
                    let table = &mut self.schema.tables[idx];
                    for column in columns {
                        if table.column_mut(&column.name).is_none() {
                            table.columns.push(column);
                        }
                    }
                }
                None => {
                    self.schema.tables.push(Table {
                        name: name.clone(),
                        columns,
                        write_disposition: None,
                        resource: None,
                        parent: Some(parent),
                        x_normalizer: serde_json::Map::new(),
                    });
                }
            }
            self.table_owner.entry(name).or_insert(Owner::Unknown);
        }
    }

    fn normalize_column_name(&self, raw: &str) -> String {
        match self.naming.normalize_path(raw) {
            n if n.is_empty() => EMPTY_KEY.to_owned(),
            n => n,
        }
    }

    fn add_table_state(
        &mut self,
        name: String,
        schema_idx: usize,
        fragments: Vec<String>,
        parent: Option<TableId>,
        root_key: bool,
        max_nesting: i64,
    ) -> TableId {
        let id = self.tables.len();
        let root_node = self.nodes.len();
        self.nodes.push(Node {
            table: id,
            parent: None,
            raw_key: "".into(),
            norm: String::new(),
            flat_name: String::new(),
            depth: 0,
            is_row_id: false,
            children: FxMap::default(),
            first_child_hint: None,
            next_hint: None,
            stamp: 0,
            claimed: None,
            col: None,
            json_check: None,
            col_checked: None,
            child_table: None,
            saw_null: false,
        });
        let mut state = TableState {
            name: name.clone(),
            schema_idx,
            fragments,
            parent,
            root_key,
            root_node,
            max_nesting,
            cols: Vec::new(),
            col_by_name: FxMap::default(),
            order: Vec::new(),
            slots: Vec::new(),
            claims: FxMap::default(),
            col_gen: 0,
            new_cols: Vec::new(),
            writer: TableWriter::default(),
            rows: 0,
            sys: [None; 5],
        };
        for sys in SYSTEM_COLUMNS {
            state.claims.insert(sys.to_owned(), Owner::System);
        }
        // columns of the stored schema come first, in their order
        let stored: Vec<Column> = self.schema.tables[schema_idx].columns.clone();
        for column in stored {
            let col = state.cols.len();
            if !SYSTEM_COLUMNS.contains(&column.name.as_str()) {
                let owner = match column.extra.get(SOURCE_PATH_HINT).and_then(source_path) {
                    Some(path) => Owner::Source(path),
                    None if column.variant => Owner::Variant,
                    None => Owner::Unknown,
                };
                state.claims.insert(column.name.clone(), owner);
            }
            if let Some(pos) = SYSTEM_COLUMNS.iter().position(|s| *s == column.name) {
                state.sys[pos] = Some(col);
            }
            state.col_by_name.insert(column.name.clone(), col);
            state.writer.add_column(col, state.order.len(), &column);
            state.order.push(col);
            state.cols.push(ColState {
                scale: cell_scale(&column),
                column,
                variants: [None; 11],
            });
        }
        // link variants of stored columns to their base columns
        let names: Vec<(ColId, String)> = state
            .cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.column.variant)
            .map(|(i, c)| (i, c.column.name.clone()))
            .collect();
        for (variant_col, variant_name) in names {
            for dt in DataType::ALL {
                let suffix = format!("__v_{}", if dt == DataType::Json { "json" } else { dt.as_str() });
                if let Some(base) = variant_name.strip_suffix(&suffix)
                    && let Some(&base_col) = state.col_by_name.get(base)
                {
                    state.cols[base_col].variants[dt as usize] = Some(variant_col);
                }
            }
        }
        self.table_by_name.insert(name, id);
        self.tables.push(state);
        id
    }

    /// Creates the column of hint slot `slot`, typed `data_type` when the hint had no type.
    fn complete_slot(&mut self, t: TableId, slot: usize, data_type: Option<DataType>) -> ColId {
        let table = &self.tables[t];
        let mut column = table.slots[slot].column.clone();
        if let Some(dt) = data_type {
            column.data_type = dt;
        }
        // dlt removes an incomplete column and adds it again when it completes: at the end
        let position = table.order.len();
        let col = self.create_column(t, column, position);
        self.tables[t].slots[slot].col = Some(col);
        col
    }

    /// Adds a complete column to table `t` at `position` of its column order (schema and files).
    fn create_column(&mut self, t: TableId, column: Column, position: usize) -> ColId {
        let table = &mut self.tables[t];
        let col = table.cols.len();
        let position = position.min(table.order.len());
        table.col_by_name.insert(column.name.clone(), col);
        table.order.insert(position, col);
        table.new_cols.push((col, position));
        table.col_gen += 1;
        let schema_columns = &mut self.schema.tables[table.schema_idx].columns;
        let schema_position = position.min(schema_columns.len());
        schema_columns.insert(schema_position, column.clone());
        table.cols.push(ColState {
            scale: cell_scale(&column),
            column,
            variants: [None; 11],
        });
        col
    }

    /// The system column `which` (index into [`SYSTEM_COLUMNS`]) of table `t`, created on first use.
    fn system_column(&mut self, t: TableId, which: usize) -> ColId {
        if let Some(col) = self.tables[t].sys[which] {
            return col;
        }
        let name = SYSTEM_COLUMNS[which];
        let col = match self.tables[t].col_by_name.get(name) {
            Some(&col) => col,
            None => {
                let mut column = Column::new(name, DataType::Text);
                column.nullable = false;
                match name {
                    C_DLT_ID => {
                        column.unique = true;
                        column.row_key = true;
                    }
                    C_DLT_PARENT_ID => column.parent_key = true,
                    C_DLT_ROOT_ID => column.root_key = true,
                    C_DLT_LIST_IDX => column.data_type = DataType::Bigint,
                    _ => {}
                }
                let position = self.tables[t].order.len();
                self.create_column(t, column, position)
            }
        };
        self.tables[t].sys[which] = Some(col);
        col
    }

    /// The source of the nested table reached through list key `node`: its parent table's name and the
    /// raw keys down to the list.
    fn table_source(&self, node: NodeId) -> Vec<String> {
        let mut source = vec![self.tables[self.nodes[node].table].name.clone()];
        source.extend(self.raw_path(node));
        source
    }

    /// The nested table for list key `node`, created on first use.
    fn child_table(&mut self, node: NodeId) -> TableId {
        if let Some(t) = self.nodes[node].child_table {
            return t;
        }
        let parent = self.nodes[node].table;
        // the list's path below the row: dict keys as normalized, the list key by `normalize_tables_path`
        let mut list_path: Vec<String> = Vec::new();
        let mut cur = Some(node);
        while let Some(n) = cur {
            let nd = &self.nodes[n];
            if nd.parent.is_none() {
                break;
            }
            if n == node {
                let ident = self.naming.normalize_tables_path(&nd.raw_key);
                list_path.push(if ident.is_empty() {
                    EMPTY_KEY.to_owned()
                } else {
                    ident
                });
            } else {
                list_path.push(nd.norm.clone());
            }
            cur = nd.parent;
        }
        list_path.reverse();
        let mut fragments = self.tables[parent].fragments.clone();
        fragments.extend(list_path);
        let mut name = self
            .naming
            .shorten_fragments(fragments.iter().map(String::as_str));
        let parent_name = self.tables[parent].name.clone();
        let source = self.table_source(node);

        let taken = match self.table_owner.get(&name) {
            None => false,
            Some(Owner::Node(n)) => *n != node,
            // from the stored schema: ours when it hangs under the same parent
            Some(Owner::Unknown) => self
                .schema
                .table(&name)
                .is_some_and(|t| t.parent.as_deref() != Some(&parent_name)),
            Some(Owner::Source(path)) => *path != source,
            Some(Owner::System | Owner::Variant) => true,
        };
        if taken {
            let original = name.clone();
            let joined = source.join(crate::naming::PATH_SEPARATOR);
            name = tagged_name(&self.naming, &original, &joined, |candidate| {
                match self.table_owner.get(candidate) {
                    None => true,
                    Some(Owner::Source(path)) => *path == source,
                    Some(_) => false,
                }
            });
            tracing::warn!(
                table = %original,
                renamed = %name,
                source = ?source,
                "two source paths normalize to the same nested table name; the later one was renamed"
            );
            fragments = vec![name.clone()];
            if let Some(Owner::Node(owner)) = self.table_owner.get(&original).cloned() {
                let owner_source = self.table_source(owner);
                if let Some(&owner_table) = self.table_by_name.get(&original) {
                    let idx = self.tables[owner_table].schema_idx;
                    self.schema.tables[idx]
                        .x_normalizer
                        .insert(TABLE_SOURCE_HINT.to_owned(), Value::from(owner_source.clone()));
                }
                self.table_owner.insert(original, Owner::Source(owner_source));
            }
        }
        let id = match self.table_by_name.get(&name) {
            Some(&id) => id,
            None => {
                let schema_idx = match self.schema.tables.iter().position(|t| t.name == name) {
                    Some(idx) => {
                        self.schema.tables[idx].parent = Some(parent_name.clone());
                        idx
                    }
                    None => {
                        self.schema.tables.push(Table {
                            name: name.clone(),
                            columns: Vec::new(),
                            write_disposition: None,
                            resource: None,
                            parent: Some(parent_name.clone()),
                            x_normalizer: serde_json::Map::new(),
                        });
                        self.schema.tables.len() - 1
                    }
                };
                if taken {
                    self.schema.tables[schema_idx]
                        .x_normalizer
                        .insert(TABLE_SOURCE_HINT.to_owned(), Value::from(source.clone()));
                }
                let root_key = self.tables[parent].root_key;
                self.add_table_state(name.clone(), schema_idx, fragments, Some(parent), root_key, 0)
            }
        };
        self.table_owner.insert(
            name,
            if taken {
                Owner::Source(source)
            } else {
                Owner::Node(node)
            },
        );
        self.nodes[node].child_table = Some(id);
        id
    }

    // ---------------------------------------------------------------------------------------------
    // key paths

    /// The child of `parent` for `key`, trying the sibling predicted from earlier items first.
    #[inline]
    fn lookup_child(&mut self, parent: NodeId, key: &[u8], prev: Option<NodeId>) -> NodeId {
        let predicted = match prev {
            Some(p) => self.nodes[p].next_hint,
            None => self.nodes[parent].first_child_hint,
        };
        let found = match predicted {
            Some(n) if self.nodes[n].raw_key.as_bytes() == key => n,
            _ => match self.nodes[parent].children.get(key) {
                Some(&n) => n,
                None => self.new_node(parent, key),
            },
        };
        match prev {
            Some(p) => self.nodes[p].next_hint = Some(found),
            None => self.nodes[parent].first_child_hint = Some(found),
        }
        found
    }

    fn new_node(&mut self, parent: NodeId, key: &[u8]) -> NodeId {
        let raw = String::from_utf8_lossy(key).into_owned();
        // dlt: an empty or blank key is `_empty`; a key of separators only (e.g. `__`) would have an empty
        // name in dlt and is `_empty` here too
        let norm = if py_strip(&raw).is_empty() {
            EMPTY_KEY.to_owned()
        } else {
            match self.naming.normalize_path(&raw) {
                n if n.is_empty() => EMPTY_KEY.to_owned(),
                n => n,
            }
        };
        let mut path: Vec<String> = Vec::new();
        let mut cur = Some(parent);
        while let Some(n) = cur {
            if self.nodes[n].parent.is_none() {
                break;
            }
            path.push(self.nodes[n].norm.clone());
            cur = self.nodes[n].parent;
        }
        path.reverse();
        let flat_name = if path.is_empty() {
            norm.clone()
        } else {
            self.naming.shorten_fragments(
                path.iter()
                    .map(String::as_str)
                    .chain(std::iter::once(norm.as_str())),
            )
        };
        let id = self.nodes.len();
        let table = self.nodes[parent].table;
        let depth = self.nodes[parent].depth + 1;
        self.nodes.push(Node {
            table,
            parent: Some(parent),
            raw_key: raw.into_boxed_str(),
            norm,
            is_row_id: depth == 1 && flat_name == C_DLT_ID,
            flat_name,
            depth,
            children: FxMap::default(),
            first_child_hint: None,
            next_hint: None,
            stamp: 0,
            claimed: None,
            col: None,
            json_check: None,
            col_checked: None,
            child_table: None,
            saw_null: false,
        });
        self.nodes[parent]
            .children
            .insert(key.to_vec().into_boxed_slice(), id);
        id
    }

    /// The raw keys from the table row down to `node`.
    fn raw_path(&self, node: NodeId) -> Vec<String> {
        let mut raw = Vec::new();
        let mut cur = Some(node);
        while let Some(n) = cur {
            if self.nodes[n].parent.is_none() {
                break;
            }
            raw.push(self.nodes[n].raw_key.to_string());
            cur = self.nodes[n].parent;
        }
        raw.reverse();
        raw
    }

    /// The column name of `node` in its table: its flattened name, or, when another source path already
    /// holds that name, the name followed by `_` and the tag of its own path.
    fn claim(&mut self, node: NodeId) -> String {
        if let Some(name) = &self.nodes[node].claimed {
            return name.clone();
        }
        let t = self.nodes[node].table;
        let base = self.nodes[node].flat_name.clone();
        let raw = self.raw_path(node);
        let fits = |owner: &Owner| match owner {
            Owner::Node(n) => *n == node,
            Owner::Unknown => true,
            Owner::Source(path) => *path == raw,
            Owner::System | Owner::Variant => false,
        };
        let name = match self.tables[t].claims.get(&base) {
            None => base,
            Some(owner) if fits(owner) => base,
            Some(owner) => {
                let owner_path = match owner {
                    Owner::Node(n) => Some(self.raw_path(*n)),
                    Owner::Source(p) => Some(p.clone()),
                    _ => None,
                };
                let joined = raw.join(crate::naming::PATH_SEPARATOR);
                let claims = &self.tables[t].claims;
                let renamed = tagged_name(&self.naming, &base, &joined, |candidate| {
                    claims.get(candidate).is_none_or(&fits)
                });
                tracing::warn!(
                    table = %self.tables[t].name,
                    column = %base,
                    renamed = %renamed,
                    key = ?raw,
                    "two source keys normalize to the same column name; the later one was renamed"
                );
                if let Some(path) = owner_path {
                    self.set_source_hint(t, &base, path);
                }
                self.set_source_hint(t, &renamed, raw.clone());
                renamed
            }
        };
        self.tables[t].claims.insert(name.clone(), Owner::Node(node));
        self.nodes[node].claimed = Some(name.clone());
        name
    }

    /// Records `path` as the `x-source-path` hint of column `name` of table `t` (now, or when the column
    /// is created).
    fn set_source_hint(&mut self, t: TableId, name: &str, path: Vec<String>) {
        let schema_idx = self.tables[t].schema_idx;
        if let Some(&col) = self.tables[t].col_by_name.get(name) {
            self.tables[t].cols[col]
                .column
                .extra
                .insert(SOURCE_PATH_HINT.to_owned(), Value::from(path.clone()));
            if let Some(c) = self.schema.tables[schema_idx].column_mut(name) {
                c.extra.insert(SOURCE_PATH_HINT.to_owned(), Value::from(path));
            }
        } else {
            self.source_hints.insert((t, name.to_owned()), path);
        }
    }

    /// Whether the value at `node` stays whole as JSON (dlt's `is_nested_type`): the nesting limit is
    /// reached, or the column of that name is typed `json`.
    #[inline]
    fn keeps_json(&mut self, node: NodeId, lvl: i64) -> bool {
        if lvl <= 0 {
            return true;
        }
        let t = self.nodes[node].table;
        let generation = self.tables[t].col_gen;
        if let Some((g, result)) = self.nodes[node].json_check
            && g == generation
        {
            return result;
        }
        let table = &self.tables[t];
        let result = table
            .col_by_name
            .get(&self.nodes[node].flat_name)
            .is_some_and(|&c| table.cols[c].column.data_type == DataType::Json);
        self.nodes[node].json_check = Some((generation, result));
        result
    }

    // ---------------------------------------------------------------------------------------------
    // the walk

    /// Normalizes the item at token 0 of `tape` for resource `resource`; `root` caches the resource's
    /// root table, created with the first item as dlt creates tables with their first row. Returns the
    /// rows produced.
    pub(crate) fn push_item(
        &mut self,
        tape: &Tape,
        resource: &str,
        root: &mut Option<TableId>,
        sink: &mut dyn JobSink,
    ) -> Result<u64, NormalizeError> {
        let root = match *root {
            Some(id) => id,
            None => *root.insert(self.root_table(resource)),
        };
        self.normalize_item(tape, root, 0, sink)
    }

    /// Normalizes one item into its root row and nested rows, depth first as dlt yields them.
    fn normalize_item(
        &mut self,
        tape: &Tape,
        root: TableId,
        item: TokIdx,
        sink: &mut dyn JobSink,
    ) -> Result<u64, NormalizeError> {
        self.id_arena.clear();
        let src = match tape.toks.get(item as usize) {
            Some(Tok::Obj { .. }) => RowSrc::Obj(item),
            // dlt wraps items that are not objects: `{"value": item}`
            _ => RowSrc::Wrap("value", item),
        };
        let max_nesting = self.tables[root].max_nesting;
        let mut work = std::mem::take(&mut self.work_buf);
        work.clear();
        let mut rows = 0;
        self.process_row(tape, root, src, max_nesting, None, None, &mut work, sink)?;
        rows += 1;
        while let Some(Work::List {
            node,
            cursor,
            end,
            idx,
            lvl,
            parent,
            root: root_id,
        }) = work.pop()
        {
            if cursor >= end {
                continue;
            }
            let elem = cursor;
            work.push(Work::List {
                node,
                cursor: tape.next(cursor),
                end,
                idx: idx + 1,
                lvl,
                parent,
                root: root_id,
            });
            let table = self.child_table(node);
            let (src, row_lvl) = match tape.toks.get(elem as usize) {
                Some(Tok::Obj { .. }) => (RowSrc::Obj(elem), lvl),
                // a list in a list goes through a row `{"list": value}` one level down
                Some(Tok::Arr { .. }) => (RowSrc::Wrap("list", elem), lvl - 1),
                _ => (RowSrc::Wrap("value", elem), lvl),
            };
            self.process_row(
                tape,
                table,
                src,
                row_lvl,
                Some((parent, idx)),
                Some(root_id),
                &mut work,
                sink,
            )?;
            rows += 1;
        }
        self.work_buf = work;
        Ok(rows)
    }

    /// Flattens one row, writes it, and schedules its lists.
    #[allow(clippy::too_many_arguments)]
    fn process_row(
        &mut self,
        tape: &Tape,
        t: TableId,
        src: RowSrc,
        lvl: i64,
        parent: Option<((usize, usize), usize)>,
        root_id: Option<(usize, usize)>,
        work: &mut Vec<Work>,
        sink: &mut dyn JobSink,
    ) -> Result<(), NormalizeError> {
        let mut cols = std::mem::take(&mut self.flat_cols);
        let mut lists = std::mem::take(&mut self.flat_lists);
        cols.clear();
        lists.clear();
        let source_id = self.flatten(tape, t, src, lvl, &mut cols, &mut lists);

        // the row id: kept from the source, random for root rows, a digest for nested rows
        let id_start = self.id_arena.len();
        match source_id.and_then(|v| source_row_id(tape, v)) {
            Some(given) => self.id_arena.push_str(&given),
            None => match parent {
                None => self.ids.random(&mut self.id_arena),
                Some((p, list_idx)) => {
                    self.ids
                        .nested(&mut self.id_arena, p, &self.tables[t].name, list_idx);
                }
            },
        }
        let id_span = (id_start, self.id_arena.len() - id_start);
        let root_span = root_id.unwrap_or(id_span);

        let result = self.emit_row(tape, t, &cols, parent, root_span, id_span, sink);
        if result.is_ok() {
            // lists in reverse so that the first is processed first
            for &(node, arr) in lists.iter().rev() {
                let end = tape.next(arr);
                work.push(Work::List {
                    node,
                    cursor: arr + 1,
                    end,
                    idx: 0,
                    lvl: lvl - 1,
                    parent: id_span,
                    root: root_span,
                });
            }
        }
        self.flat_cols = cols;
        self.flat_lists = lists;
        result
    }

    /// dlt's `_flatten`: the row's scalar (and JSON-kept) values in order, and its lists. Nested objects
    /// are flattened through a stack, last pushed first, as dlt does. Returns the value of a `_dlt_id` key
    /// of the row itself.
    fn flatten(
        &mut self,
        tape: &Tape,
        t: TableId,
        src: RowSrc,
        lvl: i64,
        cols: &mut Vec<(NodeId, TokIdx)>,
        lists: &mut Vec<(NodeId, TokIdx)>,
    ) -> Option<TokIdx> {
        let mut source_id = None;
        let mut stack = std::mem::take(&mut self.flat_stack);
        stack.clear();
        stack.push((src, lvl, self.tables[t].root_node));
        while let Some((src, lvl, node)) = stack.pop() {
            self.obj_counter += 1;
            let stamp = self.obj_counter;
            let marks = (cols.len(), lists.len(), stack.len());
            let mut prev: Option<NodeId> = None;
            let mut duplicate = false;
            match src {
                RowSrc::Wrap(key, value) => {
                    let child = self.lookup_child(node, key.as_bytes(), None);
                    self.place(tape, child, value, lvl, cols, lists, &mut stack, &mut source_id);
                }
                RowSrc::Obj(obj) => {
                    for (key, value) in object_members(tape, obj) {
                        let child = self.lookup_child(node, tape.bytes(key), prev);
                        prev = Some(child);
                        if self.nodes[child].stamp == stamp {
                            duplicate = true;
                            break;
                        }
                        self.nodes[child].stamp = stamp;
                        self.place(tape, child, value, lvl, cols, lists, &mut stack, &mut source_id);
                    }
                    if duplicate {
                        // a repeated key: Python keeps one entry per key, the last value at the first
                        // key's position; redo this object that way
                        cols.truncate(marks.0);
                        lists.truncate(marks.1);
                        stack.truncate(marks.2);
                        for (key, value) in dedup_members(tape, obj) {
                            let child = self.lookup_child(node, tape.bytes(key), None);
                            self.place(tape, child, value, lvl, cols, lists, &mut stack, &mut source_id);
                        }
                    }
                }
            }
        }
        self.flat_stack = stack;
        source_id
    }

    /// Sorts one member of an object being flattened.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn place(
        &mut self,
        tape: &Tape,
        node: NodeId,
        value: TokIdx,
        lvl: i64,
        cols: &mut Vec<(NodeId, TokIdx)>,
        lists: &mut Vec<(NodeId, TokIdx)>,
        stack: &mut Vec<(RowSrc, i64, NodeId)>,
        source_id: &mut Option<TokIdx>,
    ) {
        match tape.toks.get(value as usize) {
            Some(Tok::Obj { .. }) if !self.keeps_json(node, lvl) => {
                stack.push((RowSrc::Obj(value), lvl - 1, node))
            }
            Some(Tok::Arr { .. }) if !self.keeps_json(node, lvl) => lists.push((node, value)),
            _ if self.nodes[node].is_row_id => *source_id = Some(value),
            _ => cols.push((node, value)),
        }
    }

    /// Fits the row's values into the table's columns (inferring, coercing, making variants), adds
    /// dlt's columns and hands the row to the writer.
    #[allow(clippy::too_many_arguments)]
    fn emit_row(
        &mut self,
        tape: &Tape,
        t: TableId,
        cols: &[(NodeId, TokIdx)],
        parent: Option<((usize, usize), usize)>,
        root_span: (usize, usize),
        id_span: (usize, usize),
        sink: &mut dyn JobSink,
    ) -> Result<(), NormalizeError> {
        // the buffer of an earlier row, its allocation reused
        let mut cells: Vec<(ColId, Cell<'_>)> = std::mem::take(&mut self.cells_buf);
        for &(node, value) in cols {
            let val = Val::at(tape, value);
            if let Val::Null = val {
                self.null_value(t, node).map_err(|e| *e)?;
                continue;
            }
            let cell = self.fit_value(tape, t, node, val).map_err(|e| *e)?;
            cells.push(cell);
        }
        // dlt's columns, in dlt's order
        let load_id = self.load_id.clone();
        let arena = std::mem::take(&mut self.id_arena);
        let result = self.finish_row(t, &mut cells, &arena, &load_id, parent, root_span, id_span, sink);
        self.cells_buf = recycle(cells);
        self.id_arena = arena;
        result
    }

    /// Adds dlt's columns to a row (in dlt's order) and writes it.
    #[allow(clippy::too_many_arguments)]
    fn finish_row<'a>(
        &mut self,
        t: TableId,
        cells: &mut Vec<(ColId, Cell<'a>)>,
        arena: &'a str,
        load_id: &'a str,
        parent: Option<((usize, usize), usize)>,
        root_span: (usize, usize),
        id_span: (usize, usize),
        sink: &mut dyn JobSink,
    ) -> Result<(), NormalizeError> {
        let text =
            |span: (usize, usize)| Cell::Text(std::borrow::Cow::Borrowed(&arena[span.0..span.0 + span.1]));
        let is_root = self.tables[t].parent.is_none();
        if !is_root && self.tables[t].root_key {
            let col = self.system_column(t, 4);
            cells.push((col, text(root_span)));
        }
        if is_root {
            let col = self.system_column(t, 1);
            cells.push((col, Cell::Text(std::borrow::Cow::Borrowed(load_id))));
        }
        if let Some((p, list_idx)) = parent {
            let col = self.system_column(t, 2);
            cells.push((col, text(p)));
            let col = self.system_column(t, 3);
            cells.push((col, Cell::Int(list_idx as i64)));
        }
        let col = self.system_column(t, 0);
        cells.push((col, text(id_span)));
        self.write_row(t, cells, sink)
    }

    /// A null: the column may not be null once it exists; otherwise only remembered for the warning
    /// about columns without data.
    fn null_value(&mut self, t: TableId, node: NodeId) -> Result<(), Box<NormalizeError>> {
        if let Some(col) = self.node_column(t, node) {
            if !self.tables[t].cols[col].column.nullable {
                return Err(Box::new(NormalizeError::MissingRequiredValue {
                    table: self.tables[t].name.clone(),
                    column: self.tables[t].cols[col].column.name.clone(),
                }));
            }
        } else {
            self.nodes[node].saw_null = true;
            if !self.tables[t].slots.is_empty() {
                let name = self.claim(node);
                if let Some(slot) = self.tables[t]
                    .slots
                    .iter_mut()
                    .find(|s| s.col.is_none() && s.name == name)
                {
                    slot.null_seen = true;
                }
            }
        }
        Ok(())
    }

    /// The column `node` fills in its table, if it exists yet (cached on the node).
    #[inline]
    fn node_column(&mut self, t: TableId, node: NodeId) -> Option<ColId> {
        if let Some(col) = self.nodes[node].col {
            return Some(col);
        }
        let generation = self.tables[t].col_gen;
        if self.nodes[node].col_checked == Some(generation) {
            return None;
        }
        if self.nodes[node].claimed.is_none() {
            self.claim(node);
        }
        let table = &self.tables[t];
        let found = self.nodes[node]
            .claimed
            .as_ref()
            .and_then(|name| table.col_by_name.get(name))
            .copied();
        self.nodes[node].col = found;
        self.nodes[node].col_checked = Some(generation);
        found
    }

    /// dlt's `_coerce_row` for one non-null value: the column it goes to and the value to store.
    fn fit_value<'t>(
        &mut self,
        tape: &'t Tape,
        t: TableId,
        node: NodeId,
        val: Val<'t>,
    ) -> Result<(ColId, Cell<'t>), Box<NormalizeError>> {
        // fast path: the node's column is known
        let col = self.node_column(t, node);
        if let Some(col) = col {
            let state = &self.tables[t].cols[col];
            if let Some(cell) = coerce::coerce(tape, state.column.data_type, &val, state.scale) {
                return Ok((col, cell));
            }
            return self.fit_variant(tape, t, col, val);
        }
        // a new column, perhaps completing a hinted one
        let name = self.claim(node);
        let slot = self.tables[t]
            .slots
            .iter()
            .position(|s| s.col.is_none() && s.name == name);
        let Some(data_type) = coerce::infer_type(&val) else {
            return Err(Box::new(NormalizeError::MissingRequiredValue {
                table: self.tables[t].name.clone(),
                column: name,
            }));
        };
        let new_col = match slot {
            Some(slot) => {
                // earlier rows had null in a column that may not be null (dlt fails writing them)
                if self.tables[t].slots[slot].null_seen && !self.tables[t].slots[slot].column.nullable {
                    return Err(Box::new(NormalizeError::MissingRequiredValue {
                        table: self.tables[t].name.clone(),
                        column: name,
                    }));
                }
                self.complete_slot(t, slot, Some(data_type))
            }
            None => {
                let column = Column::new(name, data_type);
                let position = self.tables[t].order.len();
                self.create_column(t, column, position)
            }
        };
        self.nodes[node].col = Some(new_col);
        let state = &self.tables[t].cols[new_col];
        match coerce::coerce(tape, state.column.data_type, &val, state.scale) {
            Some(cell) => Ok((new_col, cell)),
            // a hinted type the value does not fit: a variant, as for an existing column
            None => self.fit_variant(tape, t, new_col, val),
        }
    }

    /// dlt's variant columns: `<col>__v_<type of the value>`, created typed by inference.
    fn fit_variant<'t>(
        &mut self,
        tape: &'t Tape,
        t: TableId,
        base: ColId,
        val: Val<'t>,
    ) -> Result<(ColId, Cell<'t>), Box<NormalizeError>> {
        let Some(py_type) = val.py_type() else {
            return Err(Box::new(NormalizeError::MissingRequiredValue {
                table: self.tables[t].name.clone(),
                column: self.tables[t].cols[base].column.name.clone(),
            }));
        };
        let variant = match self.tables[t].cols[base].variants[py_type as usize] {
            Some(v) => v,
            None => {
                let base_name = self.tables[t].cols[base].column.name.clone();
                let mut name = self
                    .naming
                    .shorten_fragments([base_name.as_str(), &format!("v_{}", py_type.as_str())]);
                if py_type == DataType::Json {
                    // dlt reuses a variant of the legacy name `complex`
                    let legacy = self.naming.shorten_fragments([base_name.as_str(), "v_complex"]);
                    if self.tables[t]
                        .col_by_name
                        .get(&legacy)
                        .is_some_and(|&c| self.tables[t].cols[c].column.variant)
                    {
                        name = legacy;
                    }
                }
                let name = self.claim_variant(t, name);
                let col = match self.tables[t].col_by_name.get(&name) {
                    Some(&col) => col,
                    None => {
                        let data_type = coerce::infer_type(&val).unwrap_or(py_type);
                        let mut column = Column::new(name.clone(), data_type);
                        column.variant = true;
                        // dlt names the variant itself here
                        column.description = Some(format!("Variant of column {name} generated by dlt"));
                        let position = self.tables[t].order.len();
                        self.create_column(t, column, position)
                    }
                };
                self.tables[t].cols[base].variants[py_type as usize] = Some(col);
                col
            }
        };
        let state = &self.tables[t].cols[variant];
        match coerce::coerce(tape, state.column.data_type, &val, state.scale) {
            Some(cell) => Ok((variant, cell)),
            None => Err(Box::new(NormalizeError::UncoercibleValue {
                table: self.tables[t].name.clone(),
                column: state.column.name.clone(),
                value_type: coerce::describe(&val),
                column_type: state.column.data_type.to_string(),
            })),
        }
    }

    /// The name of a variant column: taken over by the variant unless a source key holds it.
    fn claim_variant(&mut self, t: TableId, name: String) -> String {
        match self.tables[t].claims.get(&name) {
            None | Some(Owner::Variant | Owner::Unknown) => {
                self.tables[t].claims.insert(name.clone(), Owner::Variant);
                name
            }
            Some(_) => {
                let claims = &self.tables[t].claims;
                let candidate = tagged_name(&self.naming, &name, &name, |candidate| {
                    matches!(claims.get(candidate), None | Some(Owner::Variant))
                });
                tracing::warn!(table = %self.tables[t].name, column = %name, renamed = %candidate,
                    "a variant column's name is held by a source key; the variant was renamed");
                self.tables[t].claims.insert(candidate.clone(), Owner::Variant);
                candidate
            }
        }
    }

    /// Hands a row to the table's writer: rotates the file first when the row brought new columns and
    /// rows were already written with the narrower schema (dlt's rotation on schema change).
    fn write_row(
        &mut self,
        t: TableId,
        cells: &[(ColId, Cell<'_>)],
        sink: &mut dyn JobSink,
    ) -> Result<(), NormalizeError> {
        let table = &mut self.tables[t];
        if !table.new_cols.is_empty() {
            if table.writer.has_open_file() {
                table.writer.flush(&table.name, sink, &self.settings)?;
                table.writer.close(&table.name, &mut self.files)?;
            }
            for (col, position) in std::mem::take(&mut table.new_cols) {
                let mut column = table.cols[col].column.clone();
                if let Some(path) = self.source_hints.remove(&(t, column.name.clone())) {
                    column
                        .extra
                        .insert(SOURCE_PATH_HINT.to_owned(), Value::from(path.clone()));
                    table.cols[col].column = column.clone();
                    if let Some(c) = self.schema.tables[table.schema_idx].column_mut(&column.name) {
                        c.extra.insert(SOURCE_PATH_HINT.to_owned(), Value::from(path));
                    }
                }
                table.writer.add_column(col, position, &column);
            }
        }
        let (buffered, grouped) = (table.writer.buffered_bytes(), table.writer.row_group_memory());
        table.writer.append_row(cells);
        table.rows += 1;
        if table.rows == 1 {
            self.schema.tables[table.schema_idx].set_seen_data();
        }
        table
            .writer
            .maybe_flush(&table.name, sink, &self.settings, &mut self.files)?;
        self.buffered_bytes = (self.buffered_bytes + table.writer.buffered_bytes()).saturating_sub(buffered);
        self.row_group_bytes =
            (self.row_group_bytes + table.writer.row_group_memory()).saturating_sub(grouped);
        self.enforce_memory_budget(sink)
    }

    /// Keeps the memory of all tables together bounded: past the budgets, the table holding the most
    /// buffered rows writes them, the table holding the largest open row group closes it.
    fn enforce_memory_budget(&mut self, sink: &mut dyn JobSink) -> Result<(), NormalizeError> {
        if self.buffered_bytes > self.settings.buffer_budget {
            if let Some(table) = self.tables.iter_mut().max_by_key(|t| t.writer.buffered_bytes()) {
                table.writer.flush(&table.name, sink, &self.settings)?;
                table
                    .writer
                    .rotate_if_full(&table.name, &self.settings, &mut self.files)?;
            }
            self.buffered_bytes = self.tables.iter().map(|t| t.writer.buffered_bytes()).sum();
            self.row_group_bytes = self.tables.iter().map(|t| t.writer.row_group_memory()).sum();
        }
        if self.row_group_bytes > self.settings.row_group_budget {
            if let Some(table) = self.tables.iter_mut().max_by_key(|t| t.writer.row_group_memory()) {
                table.writer.close_row_group(&table.name)?;
                table
                    .writer
                    .rotate_if_full(&table.name, &self.settings, &mut self.files)?;
            }
            self.row_group_bytes = self.tables.iter().map(|t| t.writer.row_group_memory()).sum();
        }
        Ok(())
    }

    /// Writes every buffered row, closes every file, and warns about columns that never had data.
    pub(crate) fn finish(&mut self, sink: &mut dyn JobSink) -> Result<(), NormalizeError> {
        for table in &mut self.tables {
            table.writer.flush(&table.name, sink, &self.settings)?;
            table.writer.close(&table.name, &mut self.files)?;
        }
        let mut null_only: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for node in &self.nodes {
            if node.saw_null && node.col.is_none() {
                let table = &self.tables[node.table];
                let name = node.claimed.as_deref().unwrap_or(&node.flat_name);
                if !table.col_by_name.contains_key(name) {
                    null_only.entry(table.name.as_str()).or_default().push(name);
                }
            }
        }
        for (table, columns) in null_only {
            tracing::warn!(
                table,
                ?columns,
                "columns did not receive any data and were not created"
            );
        }
        Ok(())
    }
}

/// Empties `cells` and gives its allocation back without the borrowed lifetime (an in-place collect:
/// the element types differ only in lifetime, so the buffer is reused).
#[allow(clippy::unnecessary_filter_map)]
fn recycle(mut cells: Vec<(ColId, Cell<'_>)>) -> Vec<(ColId, Cell<'static>)> {
    cells.clear();
    cells.into_iter().filter_map(|_| None).collect()
}

/// The row id a source `_dlt_id` value gives (dlt keeps a truthy value as the row id).
fn source_row_id(tape: &Tape, value: TokIdx) -> Option<String> {
    match Val::at(tape, value) {
        Val::Str(s) if !s.is_empty() => Some(s.to_owned()),
        Val::Int(i) if i != 0 => Some(i.to_string()),
        Val::Float(f) if f != 0.0 => Some(crate::pyconv::py_float_repr(f)),
        Val::Bool(true) => Some("True".to_owned()),
        _ => None,
    }
}

/// The first free name for `base` when it is taken: `<base>_<tag>`, then `<base>_<tag>_2`, ..., where
/// the tag is dlt's hash tag of `source` (the colliding key's full path), shortened as dlt shortens.
/// Stable across runs: the same collision gets the same name.
fn tagged_name(
    naming: &SnakeCase,
    base: &str,
    source: &str,
    mut is_free: impl FnMut(&str) -> bool,
) -> String {
    let tag = compute_tag(source);
    let mut attempt = 1;
    loop {
        let suffix = if attempt == 1 {
            tag.clone()
        } else {
            format!("{tag}_{attempt}")
        };
        let candidate = naming.shorten(&format!("{base}_{suffix}"), &format!("{source}_{suffix}"));
        if is_free(&candidate) {
            return candidate;
        }
        attempt += 1;
    }
}

/// A column built from a column hint: typed when the hint says so, nullable unless it says otherwise.
fn column_from_hint(name: &str, hint: &ColumnHint) -> Column {
    Column {
        name: name.to_owned(),
        data_type: hint.data_type.unwrap_or_default(),
        nullable: hint.nullable.unwrap_or(true),
        ..Column::default()
    }
}

/// A source path stored as a JSON array of strings.
fn source_path(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The source path recorded on a table (`x-normalizer.source-path`).
fn source_path_of(x_normalizer: &serde_json::Map<String, Value>) -> Option<Vec<String>> {
    x_normalizer.get(TABLE_SOURCE_HINT).and_then(source_path)
}
