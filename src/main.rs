//! The `looker-load` command line: parses flags, resolves configuration once, and hands each command
//! to the `pipeline` crate. Exit codes: 0 ok, 1 failed extraction or load, 2 bad usage or configuration.

use std::fmt;
use std::io::{BufRead as _, IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pipeline::config::{self, DestinationKind, Overrides, Settings};
use pipeline::demo::{Demo, DemoSize};
use pipeline::inspect::{self, InspectError, SchemaFormat};
use pipeline::{PipelineError, extract};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "looker-load",
    version,
    about = "Copy a Looker instance's metadata into a database, compatible with dlt."
)]
struct Cli {
    /// More detail in the log (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings every command accepts; each overrides the environment and the `.dlt` files.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Destination: duckdb, postgres, bigquery, snowflake, redshift, databricks or filesystem.
    #[arg(long, global = true)]
    destination: Option<String>,
    /// Pipeline name (working directory and default DuckDB file name).
    #[arg(long, global = true)]
    pipeline_name: Option<String>,
    /// Dataset (schema) name at the destination.
    #[arg(long, global = true)]
    dataset_name: Option<String>,
    /// Directory holding the pipelines' working directories.
    #[arg(long, global = true)]
    pipelines_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract, normalize and load: finish pending work, then load new data from Looker.
    Run(ExtractArgs),
    /// Extract the selected resources from Looker into the working directory.
    Extract(ExtractArgs),
    /// Normalize pending extracts into load packages.
    Normalize,
    /// Load pending load packages into the destination.
    Load,
    /// List the Looker resources that can be extracted, with their paging and keys.
    Resources,
    /// Show the pipeline: state, pending extracts and packages, the last load, resources and cursors.
    /// With -v, also the resolved configuration and where each setting came from.
    Info,
    /// An HTML report of the pipeline (state, schema, row counts, last loads, last run), served on
    /// 127.0.0.1 until Ctrl-C, or written to a file.
    Show {
        /// Write the HTML to this file and exit instead of serving it.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Port to serve on, on 127.0.0.1 (0: any free port; the printed address says which).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Print the HTML to standard output instead of serving it.
        #[arg(long, conflicts_with_all = ["output", "port"])]
        no_serve: bool,
    },
    /// Show the last run's steps: timings, rows per table, bytes, retries, load ids, errors.
    Trace {
        /// Print trace.json as stored.
        #[arg(long)]
        json: bool,
    },
    /// Print the stored schema (tables, columns, types, nullability, parents, write dispositions).
    Schema {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// Run SQL against the destination and print the rows.
    Query {
        /// The SQL, e.g. "select count(*) from looker_data_data.users".
        sql: String,
        /// Print the rows as a JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Drop resources' tables at the destination and in the schema, and reset their state; the next run
    /// loads them from scratch.
    Drop {
        /// Resources to drop (names as `looker-load resources` lists them).
        #[arg(required = true, num_args = 1..)]
        resources: Vec<String>,
        /// Do not ask for confirmation (asked only on a terminal).
        #[arg(short, long)]
        yes: bool,
    },
}

/// Formats of `looker-load schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    #[command(flatten)]
    source: SourceArgs,
}

/// Where the data comes from and how it is fetched.
#[derive(Debug, Args)]
struct SourceArgs {
    /// Use the built-in mock Looker instead of a configured instance.
    #[arg(long)]
    demo: bool,
    /// Number of users of the --demo instance (looks: a tenth, dashboards: a twentieth).
    #[arg(long, default_value_t = DemoSize::default().users, requires = "demo")]
    demo_users: usize,
    /// Resources to extract, comma separated (default: users, looks, dashboards, queries, projects).
    #[arg(long, value_delimiter = ',')]
    resources: Option<Vec<String>>,
    /// Items per page requested from Looker.
    #[arg(long)]
    page_size: Option<u32>,
    /// Most requests in flight at once, over all resources.
    #[arg(long)]
    concurrency: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let code = e.exit_code();
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// Why a command failed; each error knows its exit code (2: usage or configuration, 1: otherwise).
#[derive(Debug)]
enum Failure {
    Pipeline(PipelineError),
    Inspect(InspectError),
    /// Standard output could not be written.
    Output(std::io::Error),
}

impl Failure {
    fn exit_code(&self) -> i32 {
        match self {
            Failure::Pipeline(e) => e.exit_code(),
            Failure::Inspect(e) => e.exit_code(),
            Failure::Output(_) => 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Pipeline(e) => e.fmt(f),
            Failure::Inspect(e) => e.fmt(f),
            Failure::Output(e) => write!(f, "cannot write to standard output: {e}"),
        }
    }
}

impl From<PipelineError> for Failure {
    fn from(e: PipelineError) -> Self {
        Failure::Pipeline(e)
    }
}

impl From<InspectError> for Failure {
    fn from(e: InspectError) -> Self {
        Failure::Inspect(e)
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Resources => {
            print_resources();
            Ok(())
        }
        Command::Extract(args) => {
            let settings = resolve(&cli.common, Some(&args.source))?;
            Ok(run_extract(settings, &args.source).await?)
        }
        Command::Run(args) => {
            let settings = resolve(&cli.common, Some(&args.source))?;
            Ok(run_pipeline(settings, &args.source).await?)
        }
        Command::Normalize => {
            let settings = resolve(&cli.common, None)?;
            Ok(run_normalize(settings).await?)
        }
        Command::Load => {
            let settings = resolve(&cli.common, None)?;
            Ok(run_load(settings).await?)
        }
        Command::Info => {
            let settings = resolve(&cli.common, None)?;
            let mut text = inspect::info(&settings)?.to_string();
            if cli.verbose > 0 {
                text.push_str(&format!(
                    "Configuration (files read: {}):\n",
                    files_read(&settings)
                ));
                for line in settings.to_string().lines() {
                    text.push_str(&format!("  {line}\n"));
                }
            }
            output(&text)
        }
        Command::Show {
            output,
            port,
            no_serve,
        } => {
            let settings = resolve(&cli.common, None)?;
            let options = pipeline::show::ShowOptions {
                output,
                port,
                no_serve,
            };
            Ok(pipeline::show::show(&settings, options).await?)
        }
        Command::Trace { json } => {
            let settings = resolve(&cli.common, None)?;
            let trace = inspect::trace(&settings)?;
            if json {
                let text = trace.json();
                output(text)?;
                if !text.ends_with('\n') {
                    output("\n")?;
                }
                Ok(())
            } else {
                output(&trace.to_string())
            }
        }
        Command::Schema { format } => {
            let settings = resolve(&cli.common, None)?;
            let format = match format {
                Format::Yaml => SchemaFormat::Yaml,
                Format::Json => SchemaFormat::Json,
            };
            output(&inspect::schema(&settings, format)?)
        }
        Command::Query { sql, json } => {
            let settings = resolve(&cli.common, None)?;
            let rows = inspect::query(&settings, &sql).await?;
            if json {
                output(&rows.json())
            } else {
                output(&rows.to_string())
            }
        }
        Command::Drop { resources, yes } => {
            let settings = resolve(&cli.common, None)?;
            run_drop(&settings, &resources, yes).await
        }
    }
}

/// Writes `text` to standard output. A closed pipe (`looker-load schema | head`) ends the output quietly.
fn output(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Output(e)),
        _ => Ok(()),
    }
}

fn files_read(settings: &Settings) -> String {
    if settings.files.is_empty() {
        return "none".to_owned();
    }
    settings
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Plans the drop, asks for confirmation on a terminal (unless `--yes`), applies it.
async fn run_drop(settings: &Settings, resources: &[String], yes: bool) -> Result<(), Failure> {
    let plan = inspect::plan_drop(settings, resources)?;
    if plan.is_empty() {
        for r in &plan.resources {
            println!(
                "Resource {}: no tables and no state, nothing to drop",
                r.resource.name()
            );
        }
        return Ok(());
    }
    if !yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!("{plan}Proceed? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        // An unreadable answer counts as no.
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            println!("Nothing dropped");
            return Ok(());
        }
    }
    output(&plan.apply(settings).await?.to_string())
}

/// Starts the mock Looker when `--demo` is given and points the settings at it.
async fn start_demo(settings: &mut Settings, source: &SourceArgs) -> Result<Option<Demo>, PipelineError> {
    if !source.demo {
        return Ok(None);
    }
    let demo = Demo::start(DemoSize {
        users: source.demo_users,
    })
    .await?;
    demo.configure(&mut settings.looker)?;
    Ok(Some(demo))
}

async fn run_pipeline(mut settings: Settings, source: &SourceArgs) -> Result<(), PipelineError> {
    let demo = start_demo(&mut settings, source).await?;
    let looker = extract::looker_settings(&settings.looker)?;
    let resources = extract::selected_resources(&settings)?;
    let outcome = pipeline::run::run(&settings, looker, &resources).await;
    if let Some(demo) = demo {
        demo.stop().await;
    }
    let outcome = outcome?;
    print_rows(&outcome.loaded);
    println!(
        "Extract and normalize: {:.2} s; load: {:.2} s; {} requests, {} retries",
        outcome.extract_normalize.as_secs_f64(),
        outcome.load.as_secs_f64(),
        outcome.extract.requests,
        outcome.extract.retries
    );
    if !outcome.extract.skipped_queries.is_empty() {
        println!(
            "Skipped {} referenced queries that Looker answered 404 (not visible to this API user)",
            outcome.extract.skipped_queries.len()
        );
    }
    print_load_info(&settings, &outcome.loaded, &outcome.location, outcome.elapsed);
    Ok(())
}

async fn run_normalize(settings: Settings) -> Result<(), PipelineError> {
    let dir = package::PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let destination = pipeline::load::destination(&settings)?;
    let limit = Some(destination.capabilities().max_identifier_length);
    let lock = dir.lock()?;
    let normalized = tokio::task::spawn_blocking(move || {
        let result = pipeline::normalize::normalize_extracts(&dir, &settings, limit);
        drop(lock);
        result
    })
    .await
    .map_err(|e| PipelineError::Internal(format!("normalize stopped: {e}")))??;
    if normalized.is_empty() {
        println!("No pending extracts to normalize");
    }
    for n in &normalized {
        println!(
            "Normalized {} items ({:.1} MB) into load package {} in {:.2} s:",
            n.items,
            n.bytes as f64 / 1e6,
            n.package.load_id(),
            n.elapsed.as_secs_f64()
        );
        for (table, rows) in &n.rows_per_table {
            println!("- {table}: {rows} row(s)");
        }
    }
    Ok(())
}

async fn run_load(settings: Settings) -> Result<(), PipelineError> {
    let started = std::time::Instant::now();
    let dir = package::PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let destination = pipeline::load::destination(&settings)?;
    let lock = dir.lock()?;
    let loaded = pipeline::load::load_pending(&dir, destination.as_ref()).await?;
    drop(lock);
    if loaded.is_empty() {
        println!("No pending load packages");
        return Ok(());
    }
    print_rows(&loaded);
    print_load_info(&settings, &loaded, &destination.location(), started.elapsed());
    Ok(())
}

/// Rows per table of the loaded packages.
fn print_rows(loaded: &[pipeline::load::LoadedPackage]) {
    let mut rows: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for package in loaded {
        for (table, n) in &package.rows_per_table {
            *rows.entry(table).or_insert(0) += n;
        }
    }
    if rows.is_empty() {
        return;
    }
    println!("Loaded rows per table:");
    for (table, n) in rows {
        println!("- {table}: {n} row(s)");
    }
}

/// dlt's load info lines.
fn print_load_info(
    settings: &Settings,
    loaded: &[pipeline::load::LoadedPackage],
    location: &str,
    elapsed: std::time::Duration,
) {
    println!(
        "Pipeline {} load step completed in {:.2} seconds",
        settings.pipeline_name,
        elapsed.as_secs_f64()
    );
    println!(
        "{} load package(s) were loaded to destination {} and into dataset {}",
        loaded.len(),
        settings.destination.name(),
        settings.dataset_name
    );
    println!(
        "The {} destination used {} location to store data",
        settings.destination.name(),
        location
    );
    for package in loaded {
        println!(
            "Load package {} is LOADED and contains no failed jobs",
            package.load_id
        );
    }
}

/// Resolves the configuration once, flags over environment over files.
fn resolve(common: &CommonArgs, source: Option<&SourceArgs>) -> Result<Settings, PipelineError> {
    let destination = match &common.destination {
        Some(name) => Some(
            name.parse::<DestinationKind>()
                .map_err(|e| config::ConfigError::Invalid {
                    key: "destination".to_owned(),
                    origin: config::Origin::CommandLine {
                        flag: "--destination",
                    },
                    value: name.clone(),
                    expected: e.to_string(),
                })?,
        ),
        None => None,
    };
    let overrides = Overrides {
        destination,
        pipeline_name: common.pipeline_name.clone(),
        dataset_name: common.dataset_name.clone(),
        pipelines_dir: common.pipelines_dir.clone(),
        resources: source.and_then(|s| s.resources.clone()),
        page_size: source.and_then(|s| s.page_size),
        concurrency: source.and_then(|s| s.concurrency),
        ..Overrides::default()
    };
    Ok(config::load_from_process(&overrides)?)
}

async fn run_extract(mut settings: Settings, source: &SourceArgs) -> Result<(), PipelineError> {
    let demo = start_demo(&mut settings, source).await?;
    let looker = extract::looker_settings(&settings.looker)?;
    let resources = extract::selected_resources(&settings)?;
    let dir = package::PipelineDir::new(&settings.pipelines_dir, &settings.pipeline_name)?;
    let outcome = extract::extract_to_disk(&dir, looker, &resources).await;
    if let Some(demo) = demo {
        demo.stop().await;
    }
    let outcome = outcome?;
    print_extract_summary(&settings, &outcome);
    Ok(())
}

fn print_extract_summary(settings: &Settings, outcome: &extract::ExtractOutcome) {
    let report = &outcome.report;
    println!(
        "{:<18} {:>8} {:>10} {:>12} {:>9}",
        "resource", "pages", "records", "MB", "requests"
    );
    let (mut items, mut bytes) = (0u64, 0u64);
    for (resource, r) in &report.resources {
        if !r.emitted {
            continue;
        }
        items += r.items;
        bytes += r.bytes;
        println!(
            "{:<18} {:>8} {:>10} {:>12.2} {:>9}",
            resource.name(),
            r.pages,
            r.items,
            r.bytes as f64 / 1e6,
            r.requests
        );
    }
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    println!(
        "Extracted {items} records ({:.1} MB) in {:.2} s: {:.0} records/s, {:.1} MB/s; {} requests, {} retries",
        bytes as f64 / 1e6,
        secs,
        items as f64 / secs,
        bytes as f64 / 1e6 / secs,
        report.requests,
        report.retries,
    );
    if !report.skipped_queries.is_empty() {
        println!(
            "Skipped {} referenced queries that Looker answered 404 (not visible to this API user)",
            report.skipped_queries.len()
        );
    }
    println!(
        "Extract {} of pipeline {} is in {}",
        outcome.extract_id,
        settings.pipeline_name,
        settings.working_dir().display()
    );
}

fn print_resources() {
    println!(
        "{:<16} {:<9} {:<24} {:<26} {:<8} {:<12} description",
        "resource", "default", "endpoint", "paging", "key", "incremental"
    );
    for resource in looker::Resource::ALL {
        let spec = resource.spec();
        println!(
            "{:<16} {:<9} {:<24} {:<26} {:<8} {:<12} {}",
            resource.name(),
            if looker::Resource::DEFAULT.contains(&resource) {
                "yes"
            } else {
                ""
            },
            spec.endpoint,
            spec.paging.to_string(),
            spec.primary_key,
            spec.incremental_cursor.unwrap_or("-"),
            spec.description
        );
    }
}
