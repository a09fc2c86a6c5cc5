//! A snapshot of environment variables, injectable so tests never touch the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::error::{ConfigError, Origin};

/// The environment variables configuration is resolved from.
///
/// [`Environment::from_process`] takes the real environment; tests build one from pairs
/// (`Environment::from_iter([("DESTINATION", "postgres")])`). Iterable, so that unknown keys in
/// looker-load's sections and per-resource hints can be found by name.
///
/// `Debug` lists variable names only, never values.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    /// Variables whose value is not valid UTF-8: an error if looked up, never silently mangled.
    not_unicode: BTreeSet<String>,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// The environment of this process. Variables whose name is not valid UTF-8 are skipped
    /// (no configuration key can have such a name).
    pub fn from_process() -> Self {
        let mut env = Self::new();
        for (name, value) in std::env::vars_os() {
            let Ok(name) = name.into_string() else {
                continue;
            };
            match value.into_string() {
                Ok(value) => {
                    env.vars.insert(name, value);
                }
                Err(_) => {
                    env.not_unicode.insert(name);
                }
            }
        }
        env
    }

    /// Sets a variable, replacing any previous value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.not_unicode.remove(&name);
        self.vars.insert(name, value.into());
        self
    }

    /// The value of a variable, if set and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of a variable; an error if it is set but not valid UTF-8.
    pub(crate) fn lookup(&self, name: &str) -> Result<Option<&str>, ConfigError> {
        if self.not_unicode.contains(name) {
            return Err(ConfigError::Invalid {
                key: name.to_owned(),
                origin: Origin::Environment {
                    name: name.to_owned(),
                },
                value: "<not valid UTF-8>".to_owned(),
                expected: "UTF-8 text".to_owned(),
            });
        }
        Ok(self.get(name))
    }

    /// Names of all variables, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .keys()
            .chain(self.not_unicode.iter())
            .map(String::as_str)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut env = Self::new();
        for (name, value) in iter {
            env.set(name, value);
        }
        env
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
