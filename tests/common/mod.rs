//! Helpers for the end-to-end tests of the `looker-load` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch project: its own `.dlt` dir, global dir, home and pipelines dir, so no test reads the
/// user's configuration or another test's state.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(".dlt")).expect("mkdir .dlt");
        std::fs::create_dir_all(dir.path().join("global")).expect("mkdir global");
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn pipelines_dir(&self) -> PathBuf {
        self.path().join("pipelines")
    }

    pub fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path().join(relative), text).expect("write file");
    }

    /// The binary, run in the project with a clean environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_looker-load"));
        cmd.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("DLT_PROJECT_DIR", self.path())
            .env("DLT_GLOBAL_DIR", self.path().join("global"))
            .env("PIPELINES_DIR", self.pipelines_dir())
            .env("RUST_LOG", "info");
        if let Some(lib) = std::env::var_os("LD_LIBRARY_PATH") {
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run looker-load")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
