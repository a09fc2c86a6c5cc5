//! Configuration errors, and where a value came from.

use std::fmt;
use std::path::PathBuf;

/// Where a resolved setting came from: shown by `info` and in error messages.
///
/// It never holds the value itself, so it is safe to print for secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, e.g. `--destination`.
    CommandLine {
        /// The flag as typed, with its dashes.
        flag: &'static str,
    },
    /// An environment variable.
    Environment {
        /// The variable name, e.g. `SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID`.
        name: String,
    },
    /// A key in a TOML file.
    File {
        /// The file, e.g. `/project/.dlt/secrets.toml`.
        path: PathBuf,
        /// The dotted key path inside the file, e.g. `sources.looker_data_source.client_id`.
        key: String,
    },
    /// No setting was found; the documented default applies.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::CommandLine { flag } => write!(f, "command-line flag {flag}"),
            Origin::Environment { name } => write!(f, "environment variable {name}"),
            Origin::File { path, key } => write!(f, "`{key}` in {}", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A configuration problem. Every variant names the key or variable to fix; the binary exits
/// with code 2 on any of them.
///
/// No variant ever carries a secret: values of secret keys are shown as `<redacted>`, passwords
/// inside connection strings as `***`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is absent everywhere it was looked for.
    #[error(
        "missing {key}: set `{key}` under [{section}] in .dlt/{file} or the environment variable {env}{}",
        alternative.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
    )]
    Missing {
        /// The key inside its section, e.g. `client_id`.
        key: String,
        /// The canonical TOML section, e.g. `sources.looker_data_source`.
        section: String,
        /// The file it belongs in: `secrets.toml` or `config.toml`.
        file: &'static str,
        /// The canonical environment variable, e.g. `SOURCES__LOOKER_DATA_SOURCE__CLIENT_ID`.
        env: String,
        /// Another way to provide it, when there is one (e.g. a connection string).
        alternative: Option<String>,
    },
    /// A setting is present but its value is unusable.
    #[error("invalid {key} from {origin}: got {value}, expected {expected}")]
    Invalid {
        /// The canonical dotted key, e.g. `sources.looker_data_source.page_size`.
        key: String,
        /// Where the bad value was found.
        origin: Origin,
        /// The value as found, quoted; `<redacted>` for secrets.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A TOML file is not valid TOML. The message never quotes the file's text.
    #[error("cannot parse {}: line {line}, column {column}: {message}", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the TOML parser expected.
        message: String,
    },
    /// A secret was written in a `config.toml`. dlt silently ignores such values; looker-load
    /// refuses them so the secret does not stay in a file that is usually committed.
    #[error(
        "`{key}` in {} is a secret: secrets are read only from secrets.toml or the environment, so move it to {} or set the environment variable {env}",
        file.display(),
        file.with_file_name("secrets.toml").display()
    )]
    SecretInConfig {
        /// The `config.toml` holding the secret.
        file: PathBuf,
        /// The dotted key path of the secret inside the file.
        key: String,
        /// The environment variable that may hold it instead.
        env: String,
    },
    /// A key inside one of looker-load's own sections (`[sources.looker_data_source]`,
    /// `[destination.duckdb]`, `[destination.postgres]` and their environment forms) is unknown.
    #[error("unknown key {origin}: {}", did_you_mean(suggestion.as_deref(), valid))]
    UnknownKey {
        /// Where the key was found (the key itself is in the origin).
        origin: Origin,
        /// The closest valid key, in the same form as the unknown one.
        suggestion: Option<String>,
        /// The keys valid at that place.
        valid: Vec<&'static str>,
    },
    /// A key that dlt knows but looker-load does not implement, where ignoring it would change
    /// the loaded data.
    #[error("unsupported key {origin}: {reason}")]
    Unsupported {
        /// Where the key was found.
        origin: Origin,
        /// Why, and what to do instead.
        reason: String,
    },
    /// A configuration file or directory exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn did_you_mean(suggestion: Option<&str>, valid: &[&str]) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("expected one of {}", valid.join(", ")),
    }
}

/// A name that is not one of a closed set (a destination, a write disposition, an SSL mode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`: expected one of {}{}", valid.join(", "),
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownName {
    /// What kind of name, e.g. `destination`.
    pub what: &'static str,
    /// The name as given.
    pub given: String,
    /// The valid names.
    pub valid: &'static [&'static str],
    /// The closest valid name, if one is close.
    pub suggestion: Option<&'static str>,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, given: &str, valid: &'static [&'static str]) -> Self {
        UnknownName {
            what,
            given: given.to_owned(),
            valid,
            suggestion: crate::config::keys::suggest(given, valid),
        }
    }

    /// The accepted names, with a suggestion, as used in the `expected` text of `ConfigError::Invalid`.
    pub(crate) fn expected(&self) -> String {
        format!(
            "one of {}{}",
            self.valid.join(", "),
            self.suggestion
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default()
        )
    }
}
