//! The process under test: the real `botwatch run`, started as an operator starts it (a config
//! file in a fresh folder, secrets in the environment, SQLite state beside the config), and
//! stopped with SIGTERM, which it must survive with exit code 0.

use std::path::{Path, PathBuf};
use std::time::Instant;

use botwatch::analytics::simulator::Simulator;

use crate::fleet::Fleet;
use crate::support::discord::FakeDiscord;
use crate::support::process::{Running, SECRETS};

/// A running botwatch, with its folder.
pub struct Service {
    /// Holds the config and the state; removed when the service is dropped.
    dir: tempfile::TempDir,
    /// `None` once stopped.
    running: Option<Running>,
    /// Just before the process was spawned.
    pub spawned: Instant,
}

impl Service {
    /// Starts botwatch polling `fleet` at `sim`, alerting in `discord` over REST only.
    pub fn start(fleet: &Fleet, sim: &Simulator, discord: &FakeDiscord) -> Service {
        Service::start_with(fleet, sim, discord, crate::stage::REST_ONLY, None)
    }

    /// [`Service::start`] with `discord_yaml` (lines indented by two spaces) added to the
    /// config's `discord:` section and, if given, `rules` as the rules file instead of the
    /// shipped one.
    pub fn start_with(
        fleet: &Fleet,
        sim: &Simulator,
        discord: &FakeDiscord,
        discord_yaml: &str,
        rules: Option<&str>,
    ) -> Service {
        let dir = tempfile::tempdir().expect("a folder for the config and the state");
        fleet.write_config(
            dir.path(),
            &sim.base_url(),
            &discord.base_url(),
            discord_yaml,
        );
        if let Some(rules) = rules {
            use_rules(dir.path(), rules);
        }
        let spawned = Instant::now();
        let running = Running::start(dir.path(), &["run", "--config", "botwatch.yaml"], &SECRETS);
        Service {
            dir,
            running: Some(running),
            spawned,
        }
    }

    /// botwatch's process id.
    pub fn pid(&self) -> u32 {
        self.running().botwatch_pid()
    }

    fn running(&self) -> &Running {
        self.running
            .as_ref()
            .expect("a service is running until stopped")
    }

    /// The SQLite state file (its `-wal` lies beside it).
    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("state/botwatch.db")
    }

    /// The folder the service runs in (for files of the benchmark's own, like a profile).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Stops it with SIGTERM and waits for the exit; panics unless it exits with 0. Returns the
    /// lines it logged at WARN or ERROR (a healthy run logs none).
    pub async fn stop(mut self) -> Vec<String> {
        self.running().signal("TERM");
        // The wait blocks; the simulator must keep answering the polls in flight meanwhile.
        let running = self.running.take().expect("a service is stopped once");
        let ended = tokio::task::spawn_blocking(move || running.wait())
            .await
            .expect("wait for botwatch");
        assert_eq!(
            ended.code,
            Some(0),
            "botwatch did not stop cleanly:\n{}",
            ended.stderr
        );
        ended
            .stderr
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Service {
    /// A benchmark that failed half-way must not leave botwatch polling on its own.
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            let pid = running.botwatch_pid().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
        }
    }
}

/// Writes `rules` as `dir/rules.yaml` and points `dir/botwatch.yaml` at it.
fn use_rules(dir: &Path, rules: &str) {
    std::fs::write(dir.join("rules.yaml"), rules).expect("write the rules");
    let config_path = dir.join("botwatch.yaml");
    let config = std::fs::read_to_string(&config_path).expect("read the config");
    let config: String = config
        .lines()
        .map(|line| match line.starts_with("rules: ") {
            true => "rules: rules.yaml".to_owned(),
            false => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(config_path, config + "\n").expect("write the config");
}
