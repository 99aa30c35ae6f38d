//! A CPU profile of the running process with `perf` (Linux's profiler): where botwatch spends
//! its time, by self time (`--no-children`), so that the next step knows where to cut.
//!
//! A flat profile names hundreds of symbols at under 1 % each, which says little by itself;
//! what says where to cut is the sum by kind of work (allocation, SQLite, CEL, thread
//! wake-ups…), so the report gives the groups first, then the heaviest symbols. perf samples
//! from outside: the process runs unchanged.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How many of the heaviest symbols the report lists.
const TOP_SYMBOLS: usize = 15;

/// What a profile shows: self time by group, and the heaviest symbols.
pub struct Profile {
    /// Self time by group, heaviest first, in % of the samples.
    pub groups: Vec<(Group, f64)>,
    /// The heaviest symbols (monomorphised copies of one function summed), in % of the samples.
    pub symbols: Vec<(String, f64)>,
}

/// A kind of work, to which each symbol of the profile is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// malloc and free (glibc's allocator and Rust's calls into it).
    Allocation,
    /// memcpy, memmove, memcmp…
    MemoryCopies,
    /// The kernel switching and waking threads.
    KernelScheduling,
    /// The rest of the kernel: sockets, file writes, system calls.
    KernelOther,
    /// The bundled SQLite (the C code linked into botwatch) and rusqlite.
    Sqlite,
    /// CEL: binding values and evaluating conditions.
    Cel,
    /// minijinja: templates.
    Templates,
    /// serde and serde_json: decoding answers, encoding snapshots.
    Json,
    /// hyper, reqwest, axum, url: HTTP.
    Http,
    /// tokio's scheduler, timers and channels.
    Tokio,
    /// Hash maps: SipHash and hashbrown.
    Hashing,
    /// botwatch's own functions.
    Botwatch,
    /// The rest: std's iterators, collections and strings, inlined into whoever called them.
    Other,
}

impl Group {
    /// The group of a symbol of `dso`.
    fn of(dso: &str, symbol: &str) -> Group {
        const ALLOCATOR: [&str; 9] = [
            "malloc",
            "_int_malloc",
            "_int_free",
            "cfree",
            "free",
            "realloc",
            "calloc",
            "malloc_consolidate",
            "unlink_chunk",
        ];
        let name = symbol.split(['.', '@']).next().unwrap_or(symbol);
        let has = |part: &str| symbol.contains(part);
        if ALLOCATOR.contains(&name)
            || has("__rust_alloc")
            || has("__rust_dealloc")
            || has("__rdl_")
            || has("__rust_realloc")
        {
            Group::Allocation
        } else if name.starts_with("__mem") || name.starts_with("mem") {
            Group::MemoryCopies
        } else if dso == "[kernel.kallsyms]" {
            Group::kernel(name)
        } else if (dso == "botwatch" && !symbol.contains("::") && !symbol.starts_with('_'))
            || has("rusqlite")
        {
            // The only C code linked into botwatch is the bundled SQLite.
            Group::Sqlite
        } else if has("cel::") {
            Group::Cel
        } else if has("minijinja") {
            Group::Templates
        } else if has("serde") {
            Group::Json
        } else if [
            "hyper", "reqwest", "axum", "http::", "url::", "idna", "h2::",
        ]
        .iter()
        .any(|p| has(p))
        {
            Group::Http
        } else if has("tokio::") {
            Group::Tokio
        } else if has("hash::sip") || has("hash_one") || has("hashbrown") {
            Group::Hashing
        } else if has("botwatch::") {
            Group::Botwatch
        } else {
            Group::Other
        }
    }

    /// What the group is, for the report.
    fn label(self) -> &'static str {
        match self {
            Group::Allocation => "allocation (malloc, free)",
            Group::MemoryCopies => "memory copies and compares",
            Group::KernelScheduling => "kernel: thread switches and wake-ups",
            Group::KernelOther => "kernel: sockets, file writes, system calls",
            Group::Sqlite => "SQLite",
            Group::Cel => "CEL (binding and evaluating)",
            Group::Templates => "templates (minijinja)",
            Group::Json => "serde / JSON",
            Group::Http => "HTTP (hyper, reqwest, url)",
            Group::Tokio => "tokio (tasks, timers, channels)",
            Group::Hashing => "hash maps (SipHash, hashbrown)",
            Group::Botwatch => "botwatch's own functions",
            Group::Other => "other (std collections, strings, iterators inlined anywhere)",
        }
    }

    fn kernel(name: &str) -> Group {
        const SCHEDULING: [&str; 6] = [
            "finish_task_switch",
            "_raw_spin_unlock",
            "__schedule",
            "futex",
            "try_to_wake_up",
            "schedule",
        ];
        if SCHEDULING.iter().any(|s| name.starts_with(s)) {
            Group::KernelScheduling
        } else {
            Group::KernelOther
        }
    }
}

/// Records `seconds` of process `pid` with `perf record -g` into `dir` and reads the samples.
/// Panics if perf cannot run: a profile asked for and not taken must not pass unnoticed.
pub async fn record(pid: u32, seconds: Duration, dir: &Path) -> Profile {
    let data = dir.join("perf.data");
    let out = data.clone();
    // perf runs for the whole profile: on the blocking pool, so that the simulator in this
    // process keeps answering botwatch meanwhile.
    let recorded = tokio::task::spawn_blocking(move || {
        Command::new("perf")
            .args(["record", "-g", "-q", "-p", &pid.to_string(), "-o"])
            .arg(&out)
            .args(["--", "sleep", &seconds.as_secs().to_string()])
            .output()
    })
    .await
    .expect("perf record's thread");
    succeeded("perf record", recorded);
    let report = Command::new("perf")
        .args(["report", "--no-children", "--stdio", "-g", "none"])
        .args(["-F", "overhead,dso,sym", "-i"])
        .arg(&data)
        .output();
    Profile::read(&succeeded("perf report", report))
}

/// perf's standard output; panics with its standard error if it failed.
fn succeeded(what: &str, run: std::io::Result<std::process::Output>) -> String {
    let out =
        run.unwrap_or_else(|e| panic!("{what} cannot run ({e}); perf is Debian's linux-perf"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Profile {
    /// Reads `perf report -F overhead,dso,sym` lines: `  11.97%  [kernel.kallsyms]  [k] name`.
    fn read(report: &str) -> Profile {
        let mut groups: HashMap<Group, f64> = HashMap::new();
        let mut symbols: HashMap<String, f64> = HashMap::new();
        for line in report.lines().filter(|l| !l.starts_with('#')) {
            let Some((share, dso, symbol)) = entry(line) else {
                continue;
            };
            *groups.entry(Group::of(dso, symbol)).or_default() += share;
            *symbols.entry(format!("{dso} {symbol}")).or_default() += share;
        }
        Profile {
            groups: heaviest_first(groups),
            symbols: heaviest_first(symbols)
                .into_iter()
                .take(TOP_SYMBOLS)
                .collect(),
        }
    }

    /// The groups, then the heaviest symbols, as two Markdown lists.
    pub fn render(&self) -> String {
        let mut text = String::from("Self time by kind of work:\n");
        for (group, share) in &self.groups {
            let _ = writeln!(text, "- {share:.1} % {}", group.label());
        }
        text.push_str("\nHeaviest symbols (self time):\n");
        for (symbol, share) in &self.symbols {
            let _ = writeln!(text, "- {share:.2} % `{symbol}`");
        }
        text
    }
}

/// One line's share (in %), shared object and symbol, if it is an entry.
fn entry(line: &str) -> Option<(f64, &str, &str)> {
    let (share, rest) = line.trim_start().split_once(char::is_whitespace)?;
    let share = share.strip_suffix('%')?.parse().ok()?;
    let (dso, rest) = rest.trim_start().split_once(char::is_whitespace)?;
    // The symbol follows `[k] ` (kernel) or `[.] ` (user space).
    let (_, symbol) = rest.trim_start().split_once("] ")?;
    Some((share, dso, symbol.trim()))
}

fn heaviest_first<K>(shares: HashMap<K, f64>) -> Vec<(K, f64)> {
    let mut shares: Vec<(K, f64)> = shares.into_iter().collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    shares
}
