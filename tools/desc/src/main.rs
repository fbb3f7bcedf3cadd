//! `mall-desc generate [--check]`: writes the files generated from mall.toml, or with
//! `--check` lists the stale ones and exits 1. Exit codes: 0 up to date (or written),
//! 1 stale (`--check`), 2 an invalid description or an I/O error, 64 bad usage (clap's 2 is
//! mapped to 64, as elsewhere in the mall).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The files generated from the mall's one description (mall.toml)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes every generated file that differs from what mall.toml gives.
    Generate {
        /// Writes nothing; lists the stale files and exits 1 if there are any.
        #[arg(long)]
        check: bool,
        /// The repository root [default: the nearest directory upwards with a mall.toml].
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(64);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let Command::Generate { check, root } = cli.command;
    match run(check, root) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mall-desc: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(check: bool, root: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let root = match root {
        Some(root) => root,
        None => find_root(&std::env::current_dir()?)?,
    };
    let mall = mall_desc::load(&root)?;
    let files = mall_desc::generate_all(&root, &mall)?;
    if check {
        let stale = mall_desc::stale(&root, &files);
        if stale.is_empty() {
            eprintln!("mall-desc: {} generated files are up to date", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for path in &stale {
            eprintln!("stale: {path}");
        }
        eprintln!(
            "mall-desc: run `{}` and commit the result",
            mall_desc::GENERATOR
        );
        return Ok(ExitCode::from(1));
    }
    let written = mall_desc::write(&root, &files)?;
    for path in &written {
        eprintln!("wrote {path}");
    }
    eprintln!(
        "mall-desc: {} of {} generated files written",
        written.len(),
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn find_root(start: &Path) -> anyhow::Result<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(mall_desc::DESCRIPTION).is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no mall.toml in {} or above; run it in the repository or pass --root",
                start.display()
            )
        })
}
