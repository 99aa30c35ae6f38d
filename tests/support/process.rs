//! The real `botwatch` binary as a running process: its standard output read line by line
//! while it runs, signals sent to it, its exit collected.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A running botwatch.
pub struct Running {
    child: Child,
    /// Whether `child` is strace running botwatch (see [`Running::start_traced`]).
    traced: bool,
    lines: Receiver<String>,
    /// Standard error, read as it comes: an unread pipe fills up (64 KiB) and blocks the
    /// process at its next log line.
    stderr: std::thread::JoinHandle<String>,
}

/// How it ended.
pub struct Ended {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Everything it wrote to standard error.
    pub stderr: String,
    /// What it wrote to standard output that [`Running::lines_until`] did not take.
    pub stdout: String,
}

impl Running {
    /// Starts `botwatch ARGS` in `dir` with extra environment variables.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_botwatch")),
            false,
            dir,
            args,
            env,
        )
    }

    /// [`Running::start`] under `strace`, which logs every address botwatch tries to reach
    /// to `log` (see [`super::trace`]).
    pub fn start_traced(
        strace: &str,
        log: &Path,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Running {
        let mut command = Command::new(strace);
        command.args(super::trace::traced(env!("CARGO_BIN_EXE_botwatch"), log));
        Running::spawn(command, true, dir, args, env)
    }

    fn spawn(
        mut command: Command,
        traced: bool,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Running {
        let mut child = command
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start botwatch");
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stderr, &mut text);
            String::from_utf8_lossy(&text).into_owned()
        });
        Running {
            child,
            traced,
            lines,
            stderr,
        }
    }

    /// The process id of botwatch itself (under strace, strace's child).
    pub fn botwatch_pid(&self) -> u32 {
        let pid = self.child.id();
        if !self.traced {
            return pid;
        }
        let children = format!("/proc/{pid}/task/{pid}/children");
        // Bounded: strace starts its child at once.
        for _ in 0..100 {
            let listed = std::fs::read_to_string(&children).unwrap_or_default();
            if let Some(child) = listed.split_whitespace().next() {
                return child.parse().expect("a process id");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("strace ({pid}) started no botwatch");
    }

    /// Standard output lines until `count` of them match `wanted` (bounded by `within`).
    pub fn lines_until(
        &self,
        count: usize,
        wanted: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        while seen.iter().filter(|l: &&String| wanted(l)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("only {seen:?} on stdout within {within:?}"),
            }
        }
        seen
    }

    /// Sends a signal (`TERM`, `KILL`…).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.botwatch_pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits for the exit.
    pub fn wait(self) -> Ended {
        let mut child = self.child;
        let status = child.wait().expect("wait for botwatch");
        // The reader threads end with the process's pipes, so what they read is complete now.
        let stdout: Vec<String> = self.lines.iter().collect();
        Ended {
            code: status.code(),
            stderr: self.stderr.join().expect("read stderr"),
            stdout: stdout.join("\n"),
        }
    }
}

/// The environment [`write_config`]'s secrets come from.
pub const SECRETS: [(&str, &str); 3] = [
    ("BW_TOKEN", "b1-token"),
    ("BW_SECRET", "b1-secret"),
    ("BW_DISCORD", "discord-bot-token"),
];

/// Writes `dir/botwatch.yaml`: bot b1 polled every second at `analytics`, the shipped rules,
/// state in `dir/state/`, alerts to channel 111 of the Discord at `discord`, plus `extra` YAML.
pub fn write_config(dir: &Path, analytics: &str, discord: &str, extra: &str) {
    write_config_with_bots(dir, analytics, discord, &[], extra);
}

/// [`write_config`] with more bots after b1, each with the simulator's credentials for its id.
pub fn write_config_with_bots(
    dir: &Path,
    analytics: &str,
    discord: &str,
    more_bots: &[String],
    extra: &str,
) {
    write_config_polling(
        dir,
        analytics,
        discord,
        Polling::default(),
        more_bots,
        extra,
    );
}

/// How the bots of [`write_config_polling`] are polled.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// `analytics.poll_interval`.
    pub interval: Duration,
    /// `analytics.requests_per_second`; botwatch's default when `None`.
    pub requests_per_second: Option<u32>,
}

impl Default for Polling {
    /// Every second, within botwatch's default budget.
    fn default() -> Polling {
        Polling {
            interval: Duration::from_secs(1),
            requests_per_second: None,
        }
    }
}

/// [`write_config_with_bots`], the bots polled as `polling` says.
pub fn write_config_polling(
    dir: &Path,
    analytics: &str,
    discord: &str,
    polling: Polling,
    more_bots: &[String],
    extra: &str,
) {
    let rules = super::project_root().join("rules.yaml");
    let more: String = more_bots
        .iter()
        .map(|id| format!("  - {{id: {id}, token: {id}-token, secret: {id}-secret}}\n"))
        .collect();
    let interval = humantime::format_duration(polling.interval);
    let budget = polling
        .requests_per_second
        .map(|n| format!("  requests_per_second: {n}\n"))
        .unwrap_or_default();
    let config = format!(
        "analytics:\n  base_url: {analytics}\n  poll_interval: {interval}\n{budget}bots:\n  - id: b1\n    name: Support\n    token: ${{BW_TOKEN}}\n    secret: ${{BW_SECRET}}\n{more}rules: {}\nstate: state/botwatch.db\ndiscord:\n  token: ${{BW_DISCORD}}\n  api_base_url: {discord}\n  destinations: {{ops: {{channel: \"111\"}}}}\n  route: {{default: ops}}\n{extra}",
        rules.display()
    );
    std::fs::write(dir.join("botwatch.yaml"), config).expect("write the config");
}

/// A loopback port nothing listens on now (for botwatch's `server.listen`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Checks `done` every 50 ms until it holds or `within` has passed; whether it held.
pub async fn wait_until(within: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}
