//! `botwatch check`: validate rules (and config) before anything runs.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, ConfigError};
use crate::rules::{LoadError, RuleSet};

pub(super) fn check(rules: Option<PathBuf>, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut rules_path = rules;
    let mut loaded_config = None;
    if let Some(config_path) = &config {
        match Config::load(config_path) {
            Ok(loaded) => {
                println!(
                    "{}: ok, {} bot(s)",
                    config_path.display(),
                    loaded.bots.len()
                );
                rules_path.get_or_insert(loaded.rules.clone());
                loaded_config = Some(loaded);
            }
            Err(ConfigError::Invalid(diagnostic)) => {
                return Ok(super::report_invalid(
                    &diagnostic,
                    1,
                    &config_path.display().to_string(),
                ));
            }
            Err(error) => {
                eprintln!("{error}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let rules_path = rules_path.unwrap_or_else(|| PathBuf::from("rules.yaml"));
    match RuleSet::load(&rules_path) {
        Ok(set) => {
            if let Some(Err(code)) = loaded_config.map(|c| super::check_channels(&c, &set)) {
                return Ok(code);
            }
            println!("{}: ok, {} rule(s)", rules_path.display(), set.rules.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid(diagnostics)) => Ok(super::report_invalid(
            &diagnostics,
            diagnostics.0.len(),
            &rules_path.display().to_string(),
        )),
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::from(1))
        }
    }
}
