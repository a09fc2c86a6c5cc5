//! Snapshots of the SQL the shared layer generates with nothing overridden ([`AnsiDialect`], PostgreSQL
//! type names), including hostile identifiers and values.

use destination::bookkeeping::{self, MarkKind};
use destination::dialect::{quote_identifier_with, quote_literal_standard};
use destination::{
    AnsiDialect, Capabilities, CaseFolding, SqlDialect, SqlError, StorageColumn, StorageTables,
    plan_schema_update,
};
use package::schema::{Column, DataType, Schema, Table, WriteDisposition};

fn col(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type,
        nullable,
        ..Column::default()
    }
}

fn key(mut c: Column, f: impl FnOnce(&mut Column)) -> Column {
    f(&mut c);
    c
}

fn users() -> Table {
    Table {
        name: "users".into(),
        columns: vec![
            key(col("id", DataType::Bigint, false), |c| c.primary_key = true),
            col("name", DataType::Text, true),
            col("_dlt_load_id", DataType::Text, false),
            key(col("_dlt_id", DataType::Text, false), |c| c.row_key = true),
        ],
        write_disposition: Some(WriteDisposition::Merge),
        ..Table::default()
    }
}

fn roles() -> Table {
    Table {
        name: "users__roles".into(),
        columns: vec![
            col("value", DataType::Text, true),
            col("_dlt_parent_id", DataType::Text, false),
            key(col("_dlt_id", DataType::Text, false), |c| c.row_key = true),
            key(col("_dlt_root_id", DataType::Text, false), |c| c.root_key = true),
        ],
        parent: Some("users".into()),
        ..Table::default()
    }
}

#[test]
fn identifiers_are_quoted_and_escaped() {
    let d = AnsiDialect;
    assert_eq!(d.quote_identifier("users"), r#""users""#);
    assert_eq!(d.quote_identifier(r#"a"b"#), r#""a""b""#);
    assert_eq!(
        d.quote_identifier(r#"x"; DROP TABLE y; --"#),
        r#""x""; DROP TABLE y; --""#
    );
    assert_eq!(d.quote_identifier("Ünïcødé 名前"), "\"Ünïcødé 名前\"");
    assert_eq!(d.quote_identifier("nul\0byte"), "\"nul\u{FFFD}byte\"");
    let long = "x".repeat(200);
    assert_eq!(d.quote_identifier(&long), format!("\"{long}\""));
    assert_eq!(quote_identifier_with("a`b", '`'), "`a``b`");
    assert_eq!(d.qualified_table("my ds", "t\"1"), r#""my ds"."t""1""#);
}

#[test]
fn literals_are_escaped() {
    assert_eq!(quote_literal_standard("it's"), "'it''s'");
    assert_eq!(quote_literal_standard(r"back\slash"), r"'back\slash'");
    assert_eq!(
        quote_literal_standard("'); DROP TABLE t; --"),
        "'''); DROP TABLE t; --'"
    );
    assert_eq!(quote_literal_standard("line\nbreak"), "'line\nbreak'");
    assert_eq!(quote_literal_standard("a\0b"), "'a\u{FFFD}b'");
}

#[test]
fn type_mapping_follows_dlt_postgres() {
    let d = AnsiDialect;
    let ty = |c: Column| d.column_type(&c).unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        (col("c", DataType::Text, true), "varchar"),
        (
            key(col("c", DataType::Text, true), |c| c.precision = Some(64)),
            "varchar(64)",
        ),
        (col("c", DataType::Double, true), "double precision"),
        (col("c", DataType::Bool, true), "boolean"),
        (col("c", DataType::Bigint, true), "bigint"),
        (
            key(col("c", DataType::Bigint, true), |c| c.precision = Some(16)),
            "smallint",
        ),
        (
            key(col("c", DataType::Bigint, true), |c| c.precision = Some(32)),
            "integer",
        ),
        (col("c", DataType::Timestamp, true), "timestamp with time zone"),
        (
            key(col("c", DataType::Timestamp, true), |c| c.precision = Some(3)),
            "timestamp (3) with time zone",
        ),
        (
            key(col("c", DataType::Timestamp, true), |c| c.timezone = Some(false)),
            "timestamp without time zone",
        ),
        (col("c", DataType::Date, true), "date"),
        (col("c", DataType::Time, true), "time without time zone"),
        (col("c", DataType::Decimal, true), "numeric(38,9)"),
        (
            key(col("c", DataType::Decimal, true), |c| {
                (c.precision, c.scale) = (Some(10), Some(2))
            }),
            "numeric(10,2)",
        ),
        (col("c", DataType::Wei, true), "numeric(156,78)"),
        (col("c", DataType::Json, true), "jsonb"),
        (col("c", DataType::Binary, true), "bytea"),
    ];
    for (column, expected) in cases {
        assert_eq!(ty(column.clone()), expected, "{column:?}");
    }
    let too_wide = key(col("big", DataType::Bigint, true), |c| c.precision = Some(128));
    assert!(matches!(
        d.column_type(&too_wide),
        Err(SqlError::UnsupportedType { .. })
    ));
    let too_precise = key(col("ts", DataType::Timestamp, true), |c| c.precision = Some(9));
    assert!(
        d.column_type(&too_precise)
            .is_err_and(|e| e.to_string().contains("precision 9"))
    );
}

#[test]
fn create_alter_drop_truncate() {
    let d = AnsiDialect;
    assert_eq!(
        d.create_table_sql("ds", &users(), false).ok(),
        Some(
            r#"CREATE TABLE "ds"."users" ("id" bigint NOT NULL, "name" varchar, "_dlt_load_id" varchar NOT NULL, "_dlt_id" varchar NOT NULL)"#
                .into()
        )
    );
    let loads = d.create_loads_table_sql("ds").ok();
    assert_eq!(
        loads.as_deref(),
        Some(
            r#"CREATE TABLE IF NOT EXISTS "ds"."_dlt_loads" ("load_id" varchar(64) NOT NULL, "schema_name" varchar, "status" bigint NOT NULL, "inserted_at" timestamp with time zone NOT NULL, "schema_version_hash" varchar)"#
        )
    );
    assert_eq!(
        d.create_version_table_sql("ds").ok().as_deref(),
        Some(
            r#"CREATE TABLE IF NOT EXISTS "ds"."_dlt_version" ("version" bigint NOT NULL, "engine_version" bigint NOT NULL, "inserted_at" timestamp with time zone NOT NULL, "schema_name" varchar NOT NULL, "version_hash" varchar NOT NULL, "schema" varchar NOT NULL)"#
        )
    );
    let state = destination::dlt_tables::pipeline_state_table(true);
    assert_eq!(
        d.create_table_sql("ds", &state, true).ok().as_deref(),
        Some(
            r#"CREATE TABLE IF NOT EXISTS "ds"."_dlt_pipeline_state" ("version" bigint NOT NULL, "engine_version" bigint NOT NULL, "pipeline_name" varchar NOT NULL, "state" varchar NOT NULL, "created_at" timestamp with time zone NOT NULL, "version_hash" varchar, "_dlt_load_id" varchar(64) NOT NULL, "_dlt_id" varchar(64) NOT NULL)"#
        )
    );
    let email = col("email", DataType::Text, false);
    let age = col("age", DataType::Bigint, true);
    assert_eq!(
        d.add_columns_sql("ds", "users", &[&email, &age]).ok().as_deref(),
        Some(r#"ALTER TABLE "ds"."users" ADD COLUMN "email" varchar, ADD COLUMN "age" bigint"#)
    );
    assert_eq!(
        d.drop_table_sql("ds", "users"),
        r#"DROP TABLE IF EXISTS "ds"."users""#
    );
    assert_eq!(
        d.truncate_table_sql("ds", "users", true),
        r#"TRUNCATE TABLE "ds"."users""#
    );
    assert_eq!(
        d.truncate_table_sql("ds", "users", false),
        r#"DELETE FROM "ds"."users""#
    );
    assert_eq!(
        d.create_dataset_sql("my\"ds"),
        r#"CREATE SCHEMA IF NOT EXISTS "my""ds""#
    );
    assert_eq!(d.drop_dataset_sql("ds"), r#"DROP SCHEMA IF EXISTS "ds" CASCADE"#);
    let empty = Table {
        name: "empty".into(),
        ..Table::default()
    };
    assert_eq!(
        d.create_table_sql("ds", &empty, false),
        Err(SqlError::NoColumns {
            table: "empty".into()
        })
    );
}

#[test]
fn hostile_names_in_ddl() {
    let d = AnsiDialect;
    let t = Table {
        name: "t\"; DROP TABLE users; --".into(),
        columns: vec![
            col("a\"b", DataType::Text, true),
            col("x'); DELETE FROM y; --", DataType::Bigint, false),
        ],
        ..Table::default()
    };
    assert_eq!(
        d.create_table_sql("ds", &t, false).ok().as_deref(),
        Some(
            r#"CREATE TABLE "ds"."t""; DROP TABLE users; --" ("a""b" varchar, "x'); DELETE FROM y; --" bigint NOT NULL)"#
        )
    );
}

#[test]
fn merge_delete_insert_with_children() {
    let d = AnsiDialect;
    let (u, r) = (users(), roles());
    let sql = d
        .merge_delete_insert_sql("ds", "ds_staging", &[&u, &r])
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = [
        r#"DELETE FROM "ds"."users__roles" WHERE "_dlt_root_id" IN (SELECT d."_dlt_id" FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE d."id" = s."id"))"#,
        r#"DELETE FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "ds_staging"."users" AS s WHERE d."id" = s."id")"#,
        r#"INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id" FROM (SELECT ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY (SELECT NULL)) AS _dlt_dedup_rn, "id", "name", "_dlt_load_id", "_dlt_id" FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1"#,
        r#"INSERT INTO "ds"."users__roles" ("value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id") SELECT "value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id" FROM "ds_staging"."users__roles" WHERE "_dlt_root_id" IN (SELECT "_dlt_id" FROM (SELECT ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY (SELECT NULL)) AS _dlt_dedup_rn, "_dlt_id" FROM "ds_staging"."users") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1)"#,
    ];
    assert_eq!(sql, expected);
}

#[test]
fn merge_variants() {
    let d = AnsiDialect;
    // Root only: delete by key, insert deduplicated.
    let u = users();
    let sql = d.merge_delete_insert_sql("ds", "stg", &[&u]).unwrap_or_default();
    assert_eq!(sql.len(), 2);
    assert!(sql[0].starts_with(r#"DELETE FROM "ds"."users" AS d WHERE EXISTS"#));

    // Compound primary key plus a merge key: OR of the two key matches.
    let mut u2 = users();
    u2.columns[1].primary_key = true;
    u2.columns
        .push(key(col("day", DataType::Date, true), |c| c.merge_key = true));
    let sql = d.merge_delete_insert_sql("ds", "stg", &[&u2]).unwrap_or_default();
    assert_eq!(
        sql[0],
        r#"DELETE FROM "ds"."users" AS d WHERE EXISTS (SELECT 1 FROM "stg"."users" AS s WHERE d."id" = s."id" AND d."name" = s."name" OR d."day" = s."day")"#
    );
    assert!(sql[1].contains(r#"PARTITION BY "id", "name""#));

    // No keys: append from staging.
    let mut plain = users();
    plain.columns[0].primary_key = false;
    let r = roles();
    let sql = d
        .merge_delete_insert_sql("ds", "stg", &[&plain, &r])
        .unwrap_or_default();
    assert_eq!(
        sql,
        [
            r#"INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id" FROM "stg"."users""#,
            r#"INSERT INTO "ds"."users__roles" ("value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id") SELECT "value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id" FROM "stg"."users__roles""#,
        ]
    );

    // Nested table without a root key cannot be merged by key.
    let mut no_root = roles();
    no_root.columns.retain(|c| c.name != "_dlt_root_id");
    let err = d.merge_delete_insert_sql("ds", "stg", &[&u, &no_root]);
    assert_eq!(
        err,
        Err(SqlError::MissingKey {
            table: "users__roles".into(),
            key: "root key (_dlt_root_id)"
        })
    );
}

#[test]
fn replace_from_staging() {
    let d = AnsiDialect;
    let (u, r) = (users(), roles());
    let sql = d.replace_from_staging_sql("ds", "stg", &[&u, &r], true);
    assert_eq!(
        sql,
        [
            r#"TRUNCATE TABLE "ds"."users""#,
            r#"TRUNCATE TABLE "ds"."users__roles""#,
            r#"INSERT INTO "ds"."users" ("id", "name", "_dlt_load_id", "_dlt_id") SELECT "id", "name", "_dlt_load_id", "_dlt_id" FROM "stg"."users""#,
            r#"INSERT INTO "ds"."users__roles" ("value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id") SELECT "value", "_dlt_parent_id", "_dlt_id", "_dlt_root_id" FROM "stg"."users__roles""#,
        ]
    );
}

#[test]
fn dlt_table_rows_and_lookups() {
    let d = AnsiDialect;
    assert_eq!(
        d.insert_load_sql("ds", "1749667187.541553", "looker's", "h=="),
        r#"INSERT INTO "ds"."_dlt_loads" ("load_id", "schema_name", "status", "inserted_at", "schema_version_hash") VALUES ('1749667187.541553', 'looker''s', 0, CURRENT_TIMESTAMP, 'h==')"#
    );
    let schema = Schema {
        version: 2,
        version_hash: "abc=".into(),
        engine_version: 11,
        name: "looker".into(),
        ..Schema::default()
    };
    assert_eq!(
        d.insert_version_sql("ds", &schema, r#"{"name":"it's"}"#),
        r#"INSERT INTO "ds"."_dlt_version" ("version", "engine_version", "inserted_at", "schema_name", "version_hash", "schema") VALUES (2, 11, CURRENT_TIMESTAMP, 'looker', 'abc=', '{"name":"it''s"}')"#
    );
    assert_eq!(
        d.select_stored_schema_sql("ds", Some("looker"), None),
        r#"SELECT "version", "engine_version", "inserted_at", "schema_name", "version_hash", "schema" FROM "ds"."_dlt_version" WHERE "schema_name" = 'looker' ORDER BY "inserted_at" DESC LIMIT 1"#
    );
    assert_eq!(
        d.select_stored_state_sql("ds", "pipe'line"),
        r#"SELECT s."version", s."engine_version", s."pipeline_name", s."state", s."created_at", s."version_hash", s."_dlt_load_id" FROM "ds"."_dlt_pipeline_state" AS s JOIN "ds"."_dlt_loads" AS l ON l."load_id" = s."_dlt_load_id" WHERE s."pipeline_name" = 'pipe''line' AND l."status" = 0 ORDER BY l."load_id" DESC LIMIT 1"#
    );
    assert_eq!(
        d.select_load_sql("ds", "1.2"),
        r#"SELECT "load_id", "status" FROM "ds"."_dlt_loads" WHERE "load_id" = '1.2'"#
    );
    assert_eq!(
        d.select_storage_columns_sql("ds"),
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'ds' ORDER BY table_name, ordinal_position"
    );
}

#[test]
fn bookkeeping_sql() {
    let d = AnsiDialect;
    assert_eq!(
        bookkeeping::create_table_sql(&d, "stg").ok().as_deref(),
        Some(
            r#"CREATE TABLE IF NOT EXISTS "stg"."_dlt_load_jobs" ("load_id" varchar NOT NULL, "kind" varchar NOT NULL, "name" varchar NOT NULL, "inserted_at" timestamp with time zone NOT NULL, PRIMARY KEY ("load_id", "kind", "name"))"#
        )
    );
    assert_eq!(
        bookkeeping::insert_mark_sql(&d, "stg", "1.2", MarkKind::Job, "users.f'1"),
        r#"INSERT INTO "stg"."_dlt_load_jobs" ("load_id", "kind", "name", "inserted_at") VALUES ('1.2', 'job', 'users.f''1', CURRENT_TIMESTAMP)"#
    );
    assert_eq!(
        bookkeeping::select_mark_sql(&d, "stg", "1.2", MarkKind::Replace, "users"),
        r#"SELECT "name" FROM "stg"."_dlt_load_jobs" WHERE "load_id" = '1.2' AND "kind" = 'replace' AND "name" = 'users'"#
    );
    assert_eq!(
        bookkeeping::select_marks_sql(&d, "stg", "1.2", MarkKind::Merge),
        r#"SELECT "name" FROM "stg"."_dlt_load_jobs" WHERE "load_id" = '1.2' AND "kind" = 'merge' ORDER BY "inserted_at", "name""#
    );
    assert_eq!(
        bookkeeping::delete_load_sql(&d, "stg", "1.2"),
        r#"DELETE FROM "stg"."_dlt_load_jobs" WHERE "load_id" = '1.2'"#
    );
}

fn stored(names: &[&str]) -> Vec<StorageColumn> {
    names
        .iter()
        .map(|n| StorageColumn {
            name: n.to_string(),
            data_type: "varchar".into(),
            nullable: true,
        })
        .collect()
}

#[test]
fn schema_update_plans_only_additions() {
    let d = AnsiDialect;
    let caps = Capabilities::SQL_DEFAULTS;
    let mut u = users();
    u.columns.push(col("email", DataType::Text, false));
    u.columns.push(col("age", DataType::Bigint, true));
    let schema = Schema {
        name: "s".into(),
        tables: vec![u, roles()],
        ..Schema::default()
    };

    // Nothing exists: dlt tables first (IF NOT EXISTS), then the schema's tables.
    let plan = plan_schema_update(&d, &caps, "ds", &schema, &StorageTables::new()).unwrap_or_default();
    assert_eq!(
        plan.update.new_tables,
        ["_dlt_version", "_dlt_loads", "users", "users__roles"]
    );
    assert!(plan.statements[0].starts_with(r#"CREATE TABLE IF NOT EXISTS "ds"."_dlt_version""#));
    assert!(plan.statements[2].starts_with(r#"CREATE TABLE "ds"."users" ("#));

    // users exists without the new columns and with an extra column the schema lost: add, never drop.
    let mut existing = StorageTables::new();
    existing.insert(
        "_dlt_version".into(),
        stored(&[
            "version",
            "engine_version",
            "inserted_at",
            "schema_name",
            "version_hash",
            "schema",
        ]),
    );
    existing.insert(
        "_dlt_loads".into(),
        stored(&["load_id", "schema_name", "status", "inserted_at"]),
    );
    existing.insert(
        "users".into(),
        stored(&["id", "name", "_dlt_load_id", "_dlt_id", "legacy"]),
    );
    let plan = plan_schema_update(&d, &caps, "ds", &schema, &existing).unwrap_or_default();
    assert_eq!(
        plan.statements,
        [
            r#"ALTER TABLE "ds"."_dlt_loads" ADD COLUMN "schema_version_hash" varchar"#.to_string(),
            r#"ALTER TABLE "ds"."users" ADD COLUMN "email" varchar, ADD COLUMN "age" bigint"#.to_string(),
            plan.statements[2].clone(),
        ]
    );
    assert!(plan.statements[2].starts_with(r#"CREATE TABLE "ds"."users__roles""#));
    assert_eq!(
        plan.update.new_columns,
        [
            ("_dlt_loads".to_string(), "schema_version_hash".to_string()),
            ("users".to_string(), "email".to_string()),
            ("users".to_string(), "age".to_string())
        ]
    );

    // One ALTER per column where the destination needs it.
    let single = Capabilities {
        alter_add_multi_column: false,
        ..Capabilities::SQL_DEFAULTS
    };
    let plan = plan_schema_update(&d, &single, "ds", &schema, &existing).unwrap_or_default();
    assert!(
        plan.statements
            .contains(&r#"ALTER TABLE "ds"."users" ADD COLUMN "email" varchar"#.to_string())
    );
    assert!(
        plan.statements
            .contains(&r#"ALTER TABLE "ds"."users" ADD COLUMN "age" bigint"#.to_string())
    );
}

#[test]
fn identifiers_over_the_limit_are_refused() {
    let d = AnsiDialect;
    let caps = Capabilities::SQL_DEFAULTS;
    let long = "x".repeat(64);
    let schema = Schema {
        tables: vec![Table {
            name: "t".into(),
            columns: vec![col(&long, DataType::Text, true)],
            ..Table::default()
        }],
        ..Schema::default()
    };
    let err = plan_schema_update(&d, &caps, "ds", &schema, &StorageTables::new()).err();
    assert!(
        matches!(&err, Some(SqlError::InvalidIdentifier { reason, .. }) if reason.contains("64 bytes")),
        "{err:?}"
    );
    // 32 two-byte characters are 64 bytes: limits count bytes, as PostgreSQL does.
    let wide = "é".repeat(32);
    let schema = Schema {
        tables: vec![Table {
            name: wide,
            columns: vec![col("a", DataType::Text, true)],
            ..Table::default()
        }],
        ..Schema::default()
    };
    assert!(plan_schema_update(&d, &caps, "ds", &schema, &StorageTables::new()).is_err());
    let err = plan_schema_update(&d, &caps, "", &Schema::default(), &StorageTables::new()).err();
    assert!(matches!(err, Some(SqlError::InvalidIdentifier { .. })));
}

#[derive(Debug)]
struct Lowercase;

impl SqlDialect for Lowercase {
    fn quote_identifier(&self, name: &str) -> String {
        quote_identifier_with(&self.fold_identifier(name), '"')
    }
    fn column_type(&self, column: &Column) -> Result<String, SqlError> {
        AnsiDialect.column_type(column)
    }
    fn fold_identifier(&self, name: &str) -> String {
        CaseFolding::Lower.apply(name).into_owned()
    }
}

#[test]
fn case_folding_detects_collisions_and_matches_stored_names() {
    let caps = Capabilities {
        case_folding: CaseFolding::Lower,
        ..Capabilities::SQL_DEFAULTS
    };
    let t = Table {
        name: "Users".into(),
        columns: vec![
            col("Name", DataType::Text, true),
            col("name", DataType::Text, true),
        ],
        ..Table::default()
    };
    let schema = Schema {
        tables: vec![t],
        ..Schema::default()
    };
    let err = plan_schema_update(&Lowercase, &caps, "ds", &schema, &StorageTables::new()).err();
    assert!(err.is_some_and(|e| e.to_string().contains("collides")));

    let t = Table {
        name: "Users".into(),
        columns: vec![col("Name", DataType::Text, true)],
        ..Table::default()
    };
    let schema = Schema {
        tables: vec![t],
        ..Schema::default()
    };
    let mut existing = StorageTables::new();
    existing.insert("users".into(), stored(&["name"]));
    existing.insert(
        "_dlt_version".into(),
        stored(&[
            "version",
            "engine_version",
            "inserted_at",
            "schema_name",
            "version_hash",
            "schema",
        ]),
    );
    existing.insert(
        "_dlt_loads".into(),
        stored(&[
            "load_id",
            "schema_name",
            "status",
            "inserted_at",
            "schema_version_hash",
        ]),
    );
    let plan = plan_schema_update(&Lowercase, &caps, "ds", &schema, &existing).unwrap_or_default();
    assert!(
        plan.statements.is_empty(),
        "folded names match: {:?}",
        plan.statements
    );
}
