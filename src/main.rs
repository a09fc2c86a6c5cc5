//! The `looker-load` command line: parses flags, resolves configuration once, and hands each command
//! to the `pipeline` crate. Exit codes: 0 ok, 1 failed extraction or load, 2 bad usage or configuration.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pipeline::config::{self, DestinationKind, Overrides, Settings};
use pipeline::demo::{Demo, DemoSize};
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

async fn dispatch(cli: Cli) -> Result<(), PipelineError> {
    match cli.command {
        Command::Resources => {
            print_resources();
            Ok(())
        }
        Command::Extract(args) => {
            let settings = resolve(&cli.common, Some(&args.source))?;
            run_extract(settings, &args.source).await
        }
        Command::Run(args) => {
            let settings = resolve(&cli.common, Some(&args.source))?;
            run_pipeline(settings, &args.source).await
        }
        Command::Normalize => {
            let settings = resolve(&cli.common, None)?;
            run_normalize(settings).await
        }
        Command::Load => {
            let settings = resolve(&cli.common, None)?;
            run_load(settings).await
        }
    }
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
