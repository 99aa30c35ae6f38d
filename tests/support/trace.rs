//! Every address a process tries to reach, seen from outside it: the process runs under
//! `strace -f -e trace=connect,sendto,sendmsg`, which logs each connection attempt and
//! datagram with its address, name lookups included (a DNS query is a connect to the resolver).
//! A test can then say "nothing but loopback was contacted" and mean it: a fallback to a public
//! host would show as a lookup, whatever the process logs.
//!
//! strace is a Debian package (`apt-get install strace`), not part of a bare Rust machine.
//! Without it the tests that need it say so on the test output and check nothing else; with
//! `BOTWATCH_REQUIRE_STRACE` set (`.ci/run` sets it) they fail instead.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// The variable that makes strace required.
pub const REQUIRE_ENV: &str = "BOTWATCH_REQUIRE_STRACE";

/// The strace to run a process under, or `None` (said on the test output) when there is none
/// and none is required.
pub fn strace() -> Option<&'static str> {
    // Installed is not enough: a container may forbid tracing.
    let works = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=connect",
            "-o",
            "/dev/null",
            "true",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some("strace");
    }
    assert!(
        std::env::var_os(REQUIRE_ENV).is_none(),
        "{REQUIRE_ENV} is set but strace cannot run: apt-get install strace"
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "note: strace is not installed, so this test cannot see which addresses botwatch \
         contacts and checks nothing of it (CI requires it: apt-get install strace)"
    );
    None
}

/// The arguments that run `program` under strace, logging to `log`.
pub fn traced(program: &str, log: &Path) -> Vec<String> {
    [
        "-f",
        "-qq",
        // Stop botwatch only at the traced calls, not at every call: it runs at its own pace.
        "--seccomp-bpf",
        "-e",
        "trace=connect,sendto,sendmsg",
        "-o",
        &log.display().to_string(),
        program,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The IP addresses in an strace log, in order (a port's host part only).
pub fn addresses(log: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in log.lines() {
        for (open, close) in [("inet_addr(\"", "\""), ("inet_pton(AF_INET6, \"", "\"")] {
            let mut rest = line;
            while let Some(start) = rest.find(open) {
                rest = &rest[start + open.len()..];
                let Some(end) = rest.find(close) else { break };
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    found
}

/// The name lookups in an strace log: datagrams or connections to port 53, and connections to
/// a local resolver's socket (nscd, systemd-resolved). A resolver may itself listen on a
/// loopback address (127.0.0.53), so a lookup is told apart by its port, not its address.
pub fn name_lookups(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("htons(53)")
                || l.contains("/var/run/nscd/socket") && !l.contains("ENOENT")
                || l.contains("/run/systemd/resolve")
        })
        .collect()
}

/// Whether an address is on this machine's loopback.
pub fn is_loopback(address: &str) -> bool {
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.is_loopback(),
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        })
}
