//! A full disk never stops alerting: `botwatch run` with its state on a small filesystem that
//! fills up keeps raising alerts, tells the operators once, and writes history again by itself
//! when space returns.

mod support;

use std::time::Duration;

use support::discord::FakeDiscord;
use support::process::{wait_until, write_config_with_bots, Running, SECRETS};
use support::small_disk::SmallDisk;
use support::{fake_analytics, quota};

/// GETs `path` from botwatch's HTTP endpoint: status and body.
fn get(port: u16, path: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}{path}");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let response = reqwest::get(url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_history_but_not_alerts_and_history_resumes_when_space_returns() {
    let fake = FakeDiscord::start().await;
    let bots: Vec<String> = (2..=5).map(|i| format!("b{i}")).collect();
    let mut timelines = vec![("b1", vec![quota(100)])];
    timelines.extend(bots.iter().map(|id| (id.as_str(), vec![quota(100)])));
    let sim = fake_analytics(timelines).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    let disk = SmallDisk::mount(&dir.path().join("state"), 4096);
    let port = support::process::free_port();
    let extra = format!("  admin: ops\nserver:\n  listen: 127.0.0.1:{port}\n");
    write_config_with_bots(dir.path(), &sim.base_url(), &fake.base_url(), &bots, &extra);
    let running = Running::start(
        dir.path(),
        &["--log-format", "json", "run", "--config", "botwatch.yaml"],
        &SECRETS,
    );
    let everyone_polled = || {
        std::iter::once("b1")
            .chain(bots.iter().map(String::as_str))
            .all(|id| sim.served(id) >= 2)
    };
    if !wait_until(Duration::from_secs(30), everyone_polled).await {
        running.signal("KILL");
        panic!("not every bot was polled:\n{}", running.wait().stderr);
    }

    let filler = disk.fill();
    let fake = &fake;
    let admin_says = |text: &'static str| {
        move || {
            fake.messages("111")
                .iter()
                .any(|m| m.body["content"].as_str().is_some_and(|c| c.contains(text)))
        }
    };
    assert!(
        wait_until(Duration::from_secs(30), admin_says("history is paused")).await,
        "the operators are told history paused"
    );
    // The disk is full, and an alert still reaches Discord.
    sim.set_steps("b1", vec![quota(990)]);
    let critical_card = || {
        fake.messages("111").iter().any(|m| {
            m.body["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|f| f.contains("line-quota-critical"))
        })
    };
    assert!(
        wait_until(Duration::from_secs(30), critical_card).await,
        "the alert raised on a full disk reached Discord"
    );
    let (status, body) = get(port, "/readyz");
    if status != 503 || !body.contains("disk") {
        running.signal("KILL");
        panic!("{status} {body}\n{}", running.wait().stderr);
    }
    assert!(body.contains("disk"), "{body}");
    assert!(get(port, "/metrics")
        .1
        .contains("botwatch_history_paused 1"));

    std::fs::remove_file(&filler).unwrap();
    assert!(
        wait_until(Duration::from_secs(40), admin_says("history resumed")).await,
        "history resumes by itself once there is space"
    );
    assert!(get(port, "/metrics")
        .1
        .contains("botwatch_history_paused 0"));
    assert_eq!(get(port, "/readyz").0, 200);

    running.signal("TERM");
    let ended = running.wait();
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    let paused_lines = ended.stderr.matches("history is paused").count();
    assert_eq!(
        paused_lines, 1,
        "said once, not once per poll:\n{}",
        ended.stderr
    );
    // Every poll was recorded: without its sample when the disk had no room for it.
    let unrecorded = ended.stderr.matches("could not record the poll").count();
    assert_eq!(unrecorded, 0, "{}", ended.stderr);
    fake.assert_no_violations();
}
