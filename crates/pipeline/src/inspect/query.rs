//! `looker-load query "SQL"`: runs SQL at the destination and prints the rows as an aligned table or as
//! JSON.

use std::fmt;

use destination::QueryResult;
use serde_json::Value;

use super::InspectError;
use crate::config::{DestinationKind, Settings};

/// Longest cell of the text table, in characters; longer values end in `…` (`--json` prints them whole).
const MAX_CELL: usize = 80;

/// The rows of a query: [`Display`](fmt::Display) is an aligned text table, [`json`](Self::json) JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryOutput {
    /// Column names and rows as the destination returned them.
    pub result: QueryResult,
}

/// Runs `sql` at the destination the settings name. SQL errors are [`InspectError::Query`]; a DuckDB
/// database that does not exist yet is [`InspectError::NothingYet`] (the file is not created).
pub async fn query(settings: &Settings, sql: &str) -> Result<QueryOutput, InspectError> {
    if settings.destination == DestinationKind::Duckdb && !settings.duckdb.path.exists() {
        return Err(InspectError::NothingYet {
            what: "DuckDB database",
            pipeline: settings.pipeline_name.clone(),
            path: settings.duckdb.path.clone(),
            hint: "nothing was loaded yet; run `looker-load run` first",
        });
    }
    let destination = crate::load::destination(settings)?;
    let client = destination.connect().await.map_err(InspectError::Destination)?;
    let result = client.query(sql).await.map_err(InspectError::Query)?;
    Ok(QueryOutput { result })
}

impl QueryOutput {
    /// The rows as a JSON array of objects, one row per line, keys in select order.
    pub fn json(&self) -> String {
        let columns: Vec<String> = self
            .result
            .columns
            .iter()
            .map(|c| Value::String(c.clone()).to_string())
            .collect();
        let mut out = String::from("[");
        for (i, row) in self.result.rows.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push('{');
            for (j, (column, value)) in columns.iter().zip(row).enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(column);
                out.push(':');
                out.push_str(&value.to_string());
            }
            out.push('}');
        }
        out.push_str(if self.result.rows.is_empty() {
            "]\n"
        } else {
            "\n]\n"
        });
        out
    }
}

impl fmt::Display for QueryOutput {
    /// Column names, a rule, the rows (numbers right-aligned, NULL for nulls), then the row count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = &self.result.columns;
        let cells: Vec<Vec<String>> = self
            .result
            .rows
            .iter()
            .map(|row| row.iter().map(cell).collect())
            .collect();
        let headers: Vec<String> = columns.iter().map(|c| clip(&escape(c))).collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        // A column is numeric when every value that is not null is a number.
        let numeric: Vec<bool> = (0..columns.len())
            .map(|i| {
                let mut values = self.result.rows.iter().filter_map(|r| r.get(i));
                values.all(|v| v.is_number() || v.is_null())
            })
            .collect();
        let line = |f: &mut fmt::Formatter<'_>, values: &[String], align_numbers: bool| -> fmt::Result {
            let mut text = String::new();
            for (i, (v, w)) in values.iter().zip(&widths).enumerate() {
                if i > 0 {
                    text.push_str(" | ");
                }
                let pad = w.saturating_sub(v.chars().count());
                if align_numbers && numeric[i] {
                    text.extend(std::iter::repeat_n(' ', pad));
                    text.push_str(v);
                } else {
                    text.push_str(v);
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(f, "{}", text.trim_end())
        };
        if !columns.is_empty() {
            line(f, &headers, false)?;
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            writeln!(f, "{}", rule.join("-+-"))?;
            for row in &cells {
                line(f, row, true)?;
            }
        }
        let n = self.result.rows.len();
        writeln!(f, "({n} row{})", if n == 1 { "" } else { "s" })
    }
}

/// A value as the text table shows it.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => "NULL".to_owned(),
        Value::String(s) => escape(s),
        other => other.to_string(),
    };
    clip(&text)
}

/// Control characters as escapes, so each row stays one line.
fn escape(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| match c {
            '\n' => "\\n".chars().collect::<Vec<_>>(),
            '\r' => "\\r".chars().collect(),
            '\t' => "\\t".chars().collect(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_CELL {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_CELL - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn output(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryOutput {
        QueryOutput {
            result: QueryResult {
                columns: columns.iter().map(|c| (*c).to_owned()).collect(),
                rows,
            },
        }
    }

    #[test]
    fn table_aligns_and_counts() {
        let out = output(
            &["id", "name", "ok"],
            vec![
                vec![json!(7), json!("ann"), json!(true)],
                vec![json!(1234), Value::Null, json!(false)],
            ],
        );
        assert_eq!(
            out.to_string(),
            "id   | name | ok\n\
             -----+------+------\n   \
                7 | ann  | true\n\
             1234 | NULL | false\n\
             (2 rows)\n"
        );
        assert_eq!(
            output(&["n"], vec![vec![json!(50)]]).to_string(),
            "n\n--\n50\n(1 row)\n"
        );
        assert_eq!(output(&[], vec![]).to_string(), "(0 rows)\n");
    }

    #[test]
    fn long_and_multiline_values_stay_on_one_line() {
        let long = "x".repeat(200);
        let out = output(&["v"], vec![vec![json!("a\nb\u{7}")], vec![json!(long)]]).to_string();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert_eq!(lines[2], "a\\nb\\u{7}");
        assert_eq!(lines[3].chars().count(), MAX_CELL);
        assert!(lines[3].ends_with('…'));
    }

    #[test]
    fn json_rows_keep_select_order_and_full_values() {
        let long = "y".repeat(200);
        let out = output(
            &["z", "a"],
            vec![vec![json!(1), json!("q\"")], vec![Value::Null, json!(long)]],
        );
        let json = out.json();
        assert!(
            json.starts_with("[\n{\"z\":1,\"a\":\"q\\\"\"},\n{\"z\":null,\"a\":\"yyy"),
            "{json}"
        );
        let parsed: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed[1]["a"].as_str().map(str::len), Some(200));
        assert_eq!(output(&["z"], vec![]).json(), "[]\n");
    }
}
