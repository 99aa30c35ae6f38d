//! What the kernel says of a process in `/proc`: its resident memory and the CPU time it has
//! used. The soak and the pipeline benchmark read them from outside the process measured, as
//! `top` would, so that a figure does not depend on the process counting itself correctly.
//! A measurement that cannot read `/proc` fails loudly rather than report nothing.

use std::sync::OnceLock;
use std::time::Duration;

/// Resident memory of process `pid` (`VmRSS`), in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("resident memory is read from {path}: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {path}"))
}

/// CPU time process `pid` has used so far, all its threads, user and system (`utime + stime`
/// of `/proc/PID/stat`).
pub fn cpu_time(pid: u32) -> Duration {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("CPU time is read from {path}: {e}"));
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    // Field 3 (the state) is the first after it; utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let field = |n: usize| -> u64 {
        after_name
            .split_whitespace()
            .nth(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no field {n} in {path}: {stat}"))
    };
    let ticks = field(14) + field(15);
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
}

/// The unit of `/proc/PID/stat` times (`getconf CLK_TCK`, 100 on Linux as a rule).
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("`getconf CLK_TCK` gives the unit of /proc/PID/stat times");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("`getconf CLK_TCK` prints a number")
    })
}
