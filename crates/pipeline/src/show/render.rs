//! The report as one HTML page: inline CSS, no scripts, no external assets. Every string taken from the
//! report goes through [`Esc`], so table names, column names, messages and paths are shown as text
//! whatever they hold; the page's Content-Security-Policy forbids scripts as a second line of defence.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use package::{Step, Trace};

use super::{PackageStatus, Report, RowCount, TableReport};

/// The page's Content-Security-Policy (also sent as a header when served): styles inline, nothing else.
pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = include_str!("style.css");

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// Text escaped for HTML element content and double- or single-quoted attribute values. Control
/// characters other than tab and newline become U+FFFD.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_control(c)) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{FFFD}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{FFFD}",
            })?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn is_control(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// The report as a complete HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, &format!("looker-load · {}", report.pipeline_name));
    w!(
        out,
        "<header><div class=\"brand\">looker-load pipeline report</div><h1>{}</h1>\
         <p class=\"sub\">dataset <b>{}</b> · destination <b>{}</b> · generated {}</p>",
        Esc(&report.pipeline_name),
        Esc(&report.dataset_name),
        Esc(&report.destination),
        Esc(&when(&report.generated_at))
    );
    out.push_str(
        "<nav><a href=\"#tables\">Tables</a><a href=\"#columns\">Columns</a><a href=\"#loads\">Last loads</a>\
         <a href=\"#packages\">Load packages</a><a href=\"#run\">Last run</a><a href=\"#state\">Pipeline state</a></nav>\
         </header><main>",
    );
    notices(&mut out, report);
    cards(&mut out, report);
    tables(&mut out, report);
    columns(&mut out, report);
    loads(&mut out, report);
    packages(&mut out, report);
    run(&mut out, report.trace.as_ref());
    state(&mut out, report);
    w!(
        out,
        "</main><footer>Working directory <code>{}</code> · reload the page to refresh when served by \
         <code>looker-load show</code></footer></body></html>\n",
        Esc(&report.working_dir.display().to_string())
    );
    out
}

/// A page saying the report could not be gathered.
pub(crate) fn error_page(message: &str) -> String {
    let mut out = String::new();
    head(&mut out, "looker-load · report unavailable");
    w!(
        out,
        "<header><div class=\"brand\">looker-load pipeline report</div><h1>Report unavailable</h1></header>\
         <main><div class=\"notice error\"><b>Error</b> {}</div></main></body></html>\n",
        Esc(message)
    );
    out
}

fn head(out: &mut String, title: &str) {
    w!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        Esc(title)
    );
}

fn notices(out: &mut String, report: &Report) {
    if let Some(e) = &report.destination_error {
        w!(
            out,
            "<div class=\"notice error\"><b>Destination not queried:</b> {} \
             <span class=\"muted\">Row counts and loads are missing; the rest comes from the working \
             directory.</span></div>",
            Esc(e)
        );
    }
    if !report.working_dir_exists {
        w!(
            out,
            "<div class=\"notice\"><b>No working directory:</b> {} does not exist; this pipeline has not \
             run here (check <code>pipelines_dir</code> and <code>pipeline_name</code>).</div>",
            Esc(&report.working_dir.display().to_string())
        );
    }
    for notice in &report.notices {
        w!(out, "<div class=\"notice\"><b>Note:</b> {}</div>", Esc(notice));
    }
}

fn is_dlt_table(name: &str) -> bool {
    name.starts_with("_dlt_")
}

fn cards(out: &mut String, report: &Report) {
    out.push_str("<section class=\"cards\">");
    let card = |out: &mut String, label: &str, value: &str, detail: &str, class: &str| {
        w!(
            out,
            "<div class=\"card{class}\"><div class=\"label\">{}</div><div class=\"value{}\">{}</div>\
             <div class=\"detail\">{}</div></div>",
            Esc(label),
            if value.chars().count() > 14 { " small" } else { "" },
            Esc(value),
            Esc(detail)
        );
    };
    card(out, "Dataset", &report.dataset_name, "", "");
    card(
        out,
        "Destination",
        &report.destination,
        report.location.as_deref().unwrap_or(""),
        "",
    );
    let data_tables: Vec<&TableReport> = report.tables.iter().filter(|t| !is_dlt_table(&t.name)).collect();
    let roots = data_tables.iter().filter(|t| t.parent.is_none()).count();
    card(
        out,
        "Tables",
        &data_tables.len().to_string(),
        &format!(
            "{roots} root, {} nested, {} dlt tables",
            data_tables.len() - roots,
            report.tables.len() - data_tables.len()
        ),
        "",
    );
    let counted: Vec<u64> = data_tables.iter().filter_map(|t| t.rows.count()).collect();
    let rows = if counted.is_empty() {
        "—".to_owned()
    } else {
        group(counted.iter().sum())
    };
    card(
        out,
        "Rows",
        &rows,
        "in data tables, counted in the destination",
        "",
    );
    let (last_load, last_detail) = match (report.loads.first(), newest_loaded(report)) {
        (Some(load), _) => (when(&load.inserted_at), format!("load {}", load.load_id)),
        (None, Some((id, at))) => (at, format!("package {id} (from the working directory)")),
        (None, None) => ("never".to_owned(), String::new()),
    };
    card(out, "Last load", &last_load, &last_detail, "");
    match &report.state {
        Some(state) => card(
            out,
            "State version",
            &state.version.to_string(),
            &format!(
                "engine {} · hash {}",
                state.engine_version,
                short(state.version_hash.as_deref().unwrap_or("none"))
            ),
            "",
        ),
        None => card(out, "State version", "—", "no state.json yet", ""),
    }
    let pending = report
        .packages
        .iter()
        .filter(|p| p.status == PackageStatus::Pending)
        .count();
    card(
        out,
        "Pending",
        &format!("{pending} package(s)"),
        &format!(
            "{} extract(s) waiting for normalize · {} package(s) loaded",
            report.pending_extracts, report.loaded_packages
        ),
        "",
    );
    match &report.schema {
        Some(schema) => card(
            out,
            "Schema",
            &schema.name,
            &format!(
                "version {} · hash {}",
                schema.version,
                short(&schema.version_hash)
            ),
            "",
        ),
        None => card(out, "Schema", "—", "no stored schema yet", ""),
    }
    card(
        out,
        "Working directory",
        &report.working_dir.display().to_string(),
        "",
        " wide",
    );
    out.push_str("</section>");
}

/// The newest archived package's id and commit time.
fn newest_loaded(report: &Report) -> Option<(String, String)> {
    report
        .packages
        .iter()
        .find(|p| p.status == PackageStatus::Loaded)
        .map(|p| (p.load_id.clone(), when(&p.committed_at)))
}

fn tables(out: &mut String, report: &Report) {
    w!(
        out,
        "<section id=\"tables\"><h2>Tables<span class=\"count\">{}</span></h2>",
        report.tables.len()
    );
    if report.tables.is_empty() {
        out.push_str(
            "<div class=\"panel\"><div class=\"empty\">No tables yet: no schema is stored and the \
             destination holds none.</div></div></section>",
        );
        return;
    }
    let max = report
        .tables
        .iter()
        .filter(|t| !is_dlt_table(&t.name))
        .filter_map(|t| t.rows.count())
        .max()
        .unwrap_or(0);
    out.push_str(
        "<div class=\"panel\"><table><thead><tr><th>Table</th><th>Resource</th><th>Write disposition</th>\
         <th class=\"num\">Columns</th><th class=\"num\">Rows</th><th class=\"meter\"></th></tr></thead><tbody>",
    );
    for (i, table) in report.tables.iter().enumerate() {
        let rows_attr = table.rows.count().map(|n| n.to_string()).unwrap_or_default();
        w!(
            out,
            "<tr data-table=\"{}\" data-rows=\"{}\"><td class=\"name\" style=\"padding-left:{}em\">",
            Esc(&table.name),
            rows_attr,
            0.9 + 1.3 * table.depth.min(12) as f64
        );
        if table.depth > 0 {
            out.push_str("<span class=\"child\">↳</span>");
        }
        w!(
            out,
            "<a href=\"#table-{i}\"><code>{}</code></a>",
            Esc(&table.name)
        );
        if !table.in_schema {
            out.push_str(" <span class=\"badge info\">destination only</span>");
        }
        w!(
            out,
            "</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
            Esc(table.resource.as_deref().unwrap_or("")),
            disposition(table),
            table.columns.len()
        );
        match &table.rows {
            RowCount::Count(n) => {
                w!(out, "<td class=\"num\">{}</td>", group(*n));
                if max > 0 && !is_dlt_table(&table.name) {
                    meter(out, *n as f64 / max as f64);
                } else {
                    out.push_str("<td class=\"meter\"></td>");
                }
            }
            RowCount::Missing => {
                out.push_str("<td class=\"num muted\">not loaded</td><td class=\"meter\"></td>")
            }
            RowCount::Unknown => out.push_str("<td class=\"num muted\">—</td><td class=\"meter\"></td>"),
            RowCount::Error(e) => w!(
                out,
                "<td class=\"num\"><span class=\"badge bad\" title=\"{}\">error</span></td>\
                 <td class=\"meter\"></td>",
                Esc(e)
            ),
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>");
}

/// A cell with a bar `fraction` (0 to 1) of its width.
fn meter(out: &mut String, fraction: f64) {
    let percent = if fraction.is_finite() {
        (100.0 * fraction).clamp(0.0, 100.0)
    } else {
        0.0
    };
    w!(
        out,
        "<td class=\"meter\"><span class=\"bar\" style=\"width:{percent:.1}%\"></span></td>"
    );
}

fn disposition(table: &TableReport) -> String {
    match table.write_disposition.as_deref() {
        Some(w) if table.parent.is_some() => format!("<span class=\"muted\">{} (root)</span>", Esc(w)),
        Some(w) => Esc(w).to_string(),
        None if is_dlt_table(&table.name) => "<span class=\"muted\">dlt</span>".to_owned(),
        None => String::new(),
    }
}

fn columns(out: &mut String, report: &Report) {
    out.push_str("<section id=\"columns\"><h2>Columns</h2>");
    if report.tables.is_empty() {
        out.push_str("<div class=\"panel\"><div class=\"empty\">No tables yet.</div></div>");
    }
    for (i, table) in report.tables.iter().enumerate() {
        w!(
            out,
            "<details class=\"columns\" id=\"table-{i}\"><summary><code>{}</code><span class=\"muted\">{} \
             column(s)",
            Esc(&table.name),
            table.columns.len()
        );
        if let Some(parent) = &table.parent {
            w!(out, " · child of <code>{}</code>", Esc(parent));
        }
        out.push_str(
            "</span></summary><table><thead><tr><th>Column</th><th>dlt type</th>\
             <th>Destination type</th><th>Nullable</th><th>Hints</th></tr></thead><tbody>",
        );
        for column in &table.columns {
            w!(
                out,
                "<tr><td class=\"name\"><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>",
                Esc(&column.name),
                Esc(column.data_type.as_deref().unwrap_or("—")),
                Esc(column.destination_type.as_deref().unwrap_or("—")),
                if column.nullable { "yes" } else { "no" }
            );
            for hint in &column.hints {
                w!(out, "<span class=\"hint\">{}</span>", Esc(hint));
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table></details>");
    }
    out.push_str("</section>");
}

fn loads(out: &mut String, report: &Report) {
    w!(
        out,
        "<section id=\"loads\"><h2>Last loads<span class=\"count\">{}</span></h2><div class=\"panel\">",
        match report.table("_dlt_loads").and_then(|t| t.rows.count()) {
            Some(n) if n as usize > report.loads.len() => {
                format!("newest {} of {}", report.loads.len(), group(n))
            }
            _ => report.loads.len().to_string(),
        }
    );
    if report.loads.is_empty() {
        let why = if report.destination_error.is_some() {
            "The destination was not queried."
        } else {
            "No load completed yet (<code>_dlt_loads</code> is empty or missing)."
        };
        w!(out, "<div class=\"empty\">{why}</div></div></section>");
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Load id</th><th>Schema</th><th>Status</th><th>Inserted at</th>\
         <th>Schema version hash</th></tr></thead><tbody>",
    );
    for load in &report.loads {
        let status = if load.status == "0" {
            "<span class=\"badge ok\">loaded</span>".to_owned()
        } else {
            format!("<span class=\"badge warn\">status {}</span>", Esc(&load.status))
        };
        w!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{status}</td><td>{}</td>\
             <td><code title=\"{}\">{}</code></td></tr>",
            Esc(&load.load_id),
            Esc(&load.schema_name),
            Esc(&when(&load.inserted_at)),
            Esc(&load.schema_version_hash),
            Esc(short(&load.schema_version_hash))
        );
    }
    out.push_str("</tbody></table></div></section>");
}

fn packages(out: &mut String, report: &Report) {
    let pending = report
        .packages
        .iter()
        .filter(|p| p.status == PackageStatus::Pending)
        .count();
    let listed_loaded = report.packages.len() - pending;
    w!(
        out,
        "<section id=\"packages\"><h2>Load packages<span class=\"count\">{pending} pending · {} loaded{}\
         </span></h2><div class=\"panel\">",
        report.loaded_packages,
        if listed_loaded < report.loaded_packages {
            format!(" (newest {listed_loaded} listed)")
        } else {
            String::new()
        }
    );
    if report.packages.is_empty() {
        out.push_str("<div class=\"empty\">No load packages in the working directory.</div></div></section>");
        return;
    }
    out.push_str(
        "<table><thead><tr><th>Load id</th><th>Status</th><th>Created</th><th>Committed</th>\
         <th class=\"num\">Schema version</th><th class=\"num\">Jobs</th><th class=\"num\">Rows</th>\
         <th>Tables</th></tr></thead><tbody>",
    );
    for package in &report.packages {
        let status = match package.status {
            PackageStatus::Pending => "<span class=\"badge warn\">pending</span>",
            PackageStatus::Loaded => "<span class=\"badge ok\">loaded</span>",
        };
        let failed = if package.failed_jobs > 0 {
            format!(" <span class=\"badge bad\">{} failed</span>", package.failed_jobs)
        } else {
            String::new()
        };
        let rows: u64 = package.rows_per_table.values().sum();
        let tables: Vec<String> = package
            .rows_per_table
            .iter()
            .map(|(t, n)| format!("{t}: {}", group(*n)))
            .collect();
        w!(
            out,
            "<tr><td><code>{}</code></td><td>{status}{failed}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td title=\"{}\">{} table(s)</td></tr>",
            Esc(&package.load_id),
            Esc(&when(&package.created_at)),
            Esc(&when(&package.committed_at)),
            package.schema_version,
            package.jobs,
            group(rows),
            Esc(&tables.join("\n")),
            package.rows_per_table.len()
        );
    }
    out.push_str("</tbody></table></div></section>");
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Extract => "extract",
        Step::Normalize => "normalize",
        Step::Load => "load",
    }
}

fn run(out: &mut String, trace: Option<&Trace>) {
    out.push_str("<section id=\"run\"><h2>Last run</h2>");
    let Some(trace) = trace else {
        out.push_str(
            "<div class=\"panel\"><div class=\"empty\">No run left a trace yet.</div></div></section>",
        );
        return;
    };
    let status = match (&trace.finished_at, trace.succeeded()) {
        (None, _) => "<span class=\"badge warn\">did not finish</span>",
        (Some(_), true) => "<span class=\"badge ok\">succeeded</span>",
        (Some(_), false) => "<span class=\"badge bad\">failed</span>",
    };
    let total: f64 = trace.steps.iter().map(|s| s.duration_secs).sum();
    w!(
        out,
        "<div class=\"panel\"><dl class=\"kv\"><dt>Command</dt><dd><code>looker-load {}</code> {status}</dd>\
         <dt>Started</dt><dd>{}</dd><dt>Finished</dt><dd>{}</dd><dt>Steps</dt><dd>{} step(s), {} in all</dd>\
         </dl></div>",
        Esc(&trace.command),
        Esc(&when(&trace.started_at)),
        Esc(&trace.finished_at.as_deref().map_or("—".to_owned(), when)),
        trace.steps.len(),
        duration(total)
    );
    if trace.steps.is_empty() {
        out.push_str("</section>");
        return;
    }
    let max = trace
        .steps
        .iter()
        .map(|s| s.duration_secs)
        .fold(0.0_f64, f64::max);
    out.push_str(
        "<div class=\"panel\" style=\"margin-top:10px\"><table><thead><tr><th>Step</th><th>Started</th>\
         <th class=\"num\">Duration</th><th class=\"meter\"></th><th class=\"num\">Rows</th><th class=\"num\">Bytes</th>\
         <th class=\"num\">Retries</th><th>Load packages</th><th>Error</th></tr></thead><tbody>",
    );
    for step in &trace.steps {
        let ids: Vec<String> = step.load_ids.iter().map(|id| id.to_string()).collect();
        w!(
            out,
            "<tr><td><b>{}</b></td><td>{}</td><td class=\"num\">{}</td>",
            step_name(step.step),
            Esc(&when(&step.started_at)),
            duration(step.duration_secs),
        );
        meter(out, if max > 0.0 { step.duration_secs / max } else { 0.0 });
        w!(
            out,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td><code>{}</code></td><td class=\"error-text\">{}</td></tr>",
            group(step.total_rows()),
            bytes(step.bytes),
            step.retries,
            Esc(&ids.join(", ")),
            Esc(step.error.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></div>");
    // Rows per table and step, side by side.
    let names: BTreeSet<&str> = trace
        .steps
        .iter()
        .flat_map(|s| s.rows.keys().map(String::as_str))
        .collect();
    if !names.is_empty() {
        out.push_str(
            "<details class=\"columns\" style=\"margin-top:10px\"><summary>Rows per table and step</summary>\
             <table><thead><tr><th>Table (resource for extract)</th>",
        );
        for step in &trace.steps {
            w!(out, "<th class=\"num\">{}</th>", step_name(step.step));
        }
        out.push_str("</tr></thead><tbody>");
        for name in names {
            w!(out, "<tr><td class=\"name\"><code>{}</code></td>", Esc(name));
            for step in &trace.steps {
                match step.rows.get(name) {
                    Some(n) => w!(out, "<td class=\"num\">{}</td>", group(*n)),
                    None => out.push_str("<td class=\"num muted\">—</td>"),
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></details>");
    }
    out.push_str("</section>");
}

fn state(out: &mut String, report: &Report) {
    out.push_str("<section id=\"state\"><h2>Pipeline state</h2><div class=\"panel\">");
    let Some(state) = &report.state else {
        out.push_str("<div class=\"empty\">No <code>state.json</code> yet.</div></div></section>");
        return;
    };
    w!(
        out,
        "<dl class=\"kv\"><dt>State version</dt><dd>{}</dd><dt>Engine version</dt><dd>{}</dd>\
         <dt>Version hash</dt><dd><code>{}</code></dd><dt>Destination type</dt><dd>{}</dd></dl></div>",
        state.version,
        state.engine_version,
        Esc(state.version_hash.as_deref().unwrap_or("—")),
        Esc(state.destination_type.as_deref().unwrap_or("—"))
    );
    out.push_str("<div class=\"panel\" style=\"margin-top:10px\">");
    if state.sources.is_empty() {
        out.push_str(
            "<div class=\"empty\">No source state (incremental cursors appear here once a resource \
             keeps one).</div>",
        );
    } else {
        out.push_str("<table><thead><tr><th>Source state</th><th>Value</th></tr></thead><tbody>");
        for (path, value) in &state.sources {
            w!(
                out,
                "<tr><td class=\"name\"><code>{}</code></td><td class=\"name\"><code>{}</code></td></tr>",
                Esc(path),
                Esc(value)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</div></section>");
}

/// An RFC 3339 UTC timestamp as `2026-11-01 12:34:56 UTC`; anything else as it is.
fn when(ts: &str) -> String {
    let b = ts.as_bytes();
    let shaped = b.len() >= 19
        && ts.is_char_boundary(19)
        && b[4] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':';
    let utc = ts.ends_with('Z') || ts.ends_with("+00:00");
    if shaped && utc {
        format!("{} {} UTC", &ts[..10], &ts[11..19])
    } else {
        ts.to_owned()
    }
}

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        "—".to_owned()
    } else if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.0} min {:.0} s", (secs / 60.0).floor(), secs % 60.0)
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// The first 12 characters of a hash.
fn short(hash: &str) -> &str {
    match hash.char_indices().nth(12) {
        Some((i, _)) => &hash[..i],
        None => hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            Esc("<a href=\"x\">'&'</a>\u{7}\tend").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{FFFD}\tend"
        );
        assert_eq!(Esc("plain ünïcode").to_string(), "plain ünïcode");
    }

    #[test]
    fn numbers_are_grouped_and_units_chosen() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(duration(0.0123), "12 ms");
        assert_eq!(duration(2.5), "2.50 s");
        assert_eq!(duration(150.0), "2 min 30 s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(short("abcdefghijklmnop"), "abcdefghijkl");
        assert_eq!(short("åbc"), "åbc");
        assert_eq!(when("2026-11-29T06:24:14.257046Z"), "2026-11-29 06:24:14 UTC");
        assert_eq!(when("2026-11-29 06:24:14+00:00"), "2026-11-29 06:24:14 UTC");
        assert_eq!(when("2026-11-29T06:24:14+02:00"), "2026-11-29T06:24:14+02:00");
        assert_eq!(when("<b>"), "<b>");
    }
}
