//! `docs/settings.md`, written from the flags themselves: the reference of every setting of
//! `serve` and `simulate`, with its environment variable, default and help, as `--help`
//! derives them. A test fails when the file differs (`UPDATE_DOCS=1 cargo test
//! settings_reference` rewrites it), so the reference cannot drift from the code.

use std::fmt::Write as _;

use clap::{Arg, Command, CommandFactory};

use super::Cli;

/// The whole reference, as Markdown.
pub fn settings_markdown() -> String {
    let cli = Cli::command();
    let mut text = String::from(
        "# Settings\n\n\
         Every setting is a flag with an environment variable behind it; a flag wins over \
         its variable. Durations are written as people write them (`150ms`, `15s`, \
         `1m 30s`); on/off settings take `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` \
         from the environment (empty is off), or the bare flag. An empty \
         `COMPLYCUBE_API_KEY`, `COMPLYCUBE_BASE_URL` or `REDIS_URL` counts as unset.\n\n\
         This file is generated from the code (`src/config/reference.rs`): \
         `UPDATE_DOCS=1 cargo test settings_reference` rewrites it.\n",
    );
    section(
        &mut text,
        "`complycube-graphql` (`serve`)",
        "Serves GraphQL; the default command.",
        &cli,
    );
    if let Some(simulate) = cli.find_subcommand("simulate") {
        section(
            &mut text,
            "`complycube-graphql simulate`",
            "Serves the embedded ComplyCube simulator alone (REST, under `/v1`).",
            simulate,
        );
    }
    text
}

fn section(text: &mut String, title: &str, about: &str, command: &Command) {
    let _ = write!(
        text,
        "\n## {title}\n\n{about}\n\n| flag | environment | default | what |\n|---|---|---|---|\n"
    );
    for arg in command.get_arguments() {
        if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
            continue;
        }
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} |",
            arg.get_long()
                .map_or("(none)".into(), |l| format!("`--{l}`")),
            arg.get_env()
                .map_or("(none)".into(), |e| format!("`{}`", e.to_string_lossy())),
            default(arg),
            help(arg),
        );
    }
}

fn default(arg: &Arg) -> String {
    let values: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| format!("`{}`", v.to_string_lossy()))
        .collect();
    match values.is_empty() {
        true => "none".into(),
        false => values.join(", "),
    }
}

/// The help text on one line, with the values a choice takes.
fn help(arg: &Arg) -> String {
    let mut help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    let switch = choices.len() == 2 && choices.iter().all(|c| c == "`true`" || c == "`false`");
    if !choices.is_empty() && !switch {
        if !help.is_empty() && !help.ends_with('.') {
            help.push('.');
        }
        let _ = write!(help, " One of {}.", choices.join(", "));
    }
    help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/settings.md");
        let written = settings_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &written).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == written,
            "docs/settings.md is not what the flags say: run `UPDATE_DOCS=1 cargo test \
             settings_reference` and commit it"
        );
        for setting in ["`--max-response-bytes`", "`CALLER_RATE`", "`--rate-limit`"] {
            assert!(written.contains(setting), "{setting}");
        }
    }
}
