//! The Discord fault matrix, with figures: for each kind of failure Discord can answer with,
//! aimed at each step of delivery in turn (the card's post, its edit, the reply, a digest),
//! the notifications a scenario expects, those Discord ends up showing, and the duplicates.
//! RELIABILITY.md shows the same tables; this test fails when the two disagree, so the
//! document stays true.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::digests::{digest_count, named_alerts};
use support::discord::{Failure, Recorded, StoredMessage};
use support::harness::DiscordHarness;
use support::{assert_documented, drain, quota};

/// The colour of a resolved card.
const RESOLVED: u64 = 0x2EAD5B;
/// Matrix runs at once, in each of the two tests.
const CONCURRENT_RUNS: usize = 8;
/// Alerts in the storm scenario: more than one burst of the harness's budget (50 per 5 s),
/// so they go out as digests.
const STORM_RULES: usize = 12;

fn rate_limited(global: bool, in_body: bool, in_header: bool) -> Failure {
    Failure::RateLimited {
        retry_after: 0.05,
        global,
        in_body,
        in_header,
    }
}

/// The failures, each injected on the next two requests of the step under test. The slow
/// answer comes well within the harness's 500 ms timeout, the others well past it.
fn matrix() -> Vec<(&'static str, Failure)> {
    vec![
        (
            "429, retry_after in the body",
            rate_limited(false, true, false),
        ),
        (
            "429, retry_after in the headers",
            rate_limited(false, false, true),
        ),
        ("429, global", rate_limited(true, true, true)),
        ("500", Failure::ServerError(500)),
        ("502", Failure::ServerError(502)),
        ("503", Failure::ServerError(503)),
        (
            "connection dropped before Discord processed it",
            Failure::DropConnection,
        ),
        (
            "slow answer (within the timeout)",
            Failure::Delay(Duration::from_millis(100)),
        ),
        (
            "no answer within the timeout (not processed)",
            Failure::Delay(Duration::from_millis(900)),
        ),
        (
            "answer lost after the timeout (Discord stored the message)",
            Failure::LateAnswer(Duration::from_millis(900)),
        ),
        (
            "connection reset after Discord stored the message",
            Failure::ResetAfterProcessing,
        ),
    ]
}

/// A step of delivery, as the fake Discord sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// An alert's card, posted.
    CardPost,
    /// A card edited (resolved).
    CardEdit,
    /// The short message that notifies people of a card's change.
    Reply,
    /// Many alerts in one message.
    Digest,
}

const STEPS: [Delivery; 4] = [
    Delivery::CardPost,
    Delivery::CardEdit,
    Delivery::Reply,
    Delivery::Digest,
];

/// Which step of delivery a request to Discord is, if any.
fn delivery_of(request: &Recorded) -> Option<Delivery> {
    let to_a_message = request.path.contains("/channels/") || request.path.contains("/webhooks/");
    match request.method.as_str() {
        "PATCH" if to_a_message => Some(Delivery::CardEdit),
        "POST" if to_a_message => Some(delivery_of_post(&request.body)),
        _ => None,
    }
}

fn delivery_of_post(body: &Value) -> Delivery {
    let title = body["embeds"][0]["title"].as_str();
    match title {
        _ if body["message_reference"].is_object() => Delivery::Reply,
        None => Delivery::Reply, // a webhook's reply: text, no reference
        Some(title) if is_digest_title(title) => Delivery::Digest,
        Some(_) => Delivery::CardPost,
    }
}

fn is_digest_title(title: &str) -> bool {
    digest_count(title).is_some()
}

/// Where the scenarios' alerts go.
#[derive(Clone, Copy)]
struct Destination {
    /// The destination's name in the harness's config.
    name: &'static str,
    /// Where the fake keeps its messages.
    channel: &'static str,
}

const CHANNEL: Destination = Destination {
    name: "ops",
    channel: "111",
};
const WEBHOOK: Destination = Destination {
    name: "hook",
    channel: "webhook:333",
};

/// What one run showed: the notifications the scenario expects, those Discord shows, the
/// duplicates, how many requests the step under test took, and how many card edits were sent
/// after Discord had accepted one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    expected: usize,
    delivered: usize,
    duplicated: usize,
    tries: usize,
    edits_resent: usize,
}

/// Runs the scenario that `step` belongs to, with `failure` aimed at that step.
async fn run(failure: Failure, step: Delivery, to: Destination) -> Tally {
    let storm = step == Delivery::Digest;
    let steps = if storm {
        vec![quota(900)]
    } else {
        vec![quota(900), quota(100)]
    };
    let h = DiscordHarness::new(steps).await;
    let rules = if storm {
        storm_rules(to.name)
    } else {
        format!(
            "rules:\n  - {{name: quota, when: 'lineQuotaConsumption > 800', channel: {}}}\n",
            to.name
        )
    };
    let (pipeline, mut bot_loop) = h.start(&rules).await;
    h.fake
        .fail_next_where(2, move |r| delivery_of(r) == Some(step), failure);
    for _ in 0..if storm { 1 } else { 2 } {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    h.fake.assert_no_violations();
    assert_eq!(
        h.store().outbox_len().await.unwrap(),
        0,
        "nothing left behind"
    );
    assert_eq!(h.fake.rate_limited(), 0, "retries drew no 429 of their own");
    let messages = h.channel(to.channel);
    let requests = h.fake.requests();
    let tries = requests
        .iter()
        .filter(|r| delivery_of(r) == Some(step))
        .count();
    let tally = if storm {
        storm_tally(&messages)
    } else {
        alert_tally(&messages)
    };
    Tally {
        tries,
        edits_resent: edits_resent(&requests),
        ..tally
    }
}

/// Card edits sent after botwatch received Discord's acceptance of one (the scenarios edit
/// the card once).
fn edits_resent(requests: &[Recorded]) -> usize {
    let is_edit = |r: &&Recorded| delivery_of(r) == Some(Delivery::CardEdit);
    let accepted = requests
        .iter()
        .position(|r| is_edit(&r) && r.answered && (200..300).contains(&r.status));
    accepted.map_or(0, |at| requests[at + 1..].iter().filter(is_edit).count())
}

/// `STORM_RULES` rules firing for every platform at once, to `destination`.
fn storm_rules(destination: &str) -> String {
    let mut yaml = String::from("rules:\n");
    for i in 0..STORM_RULES {
        yaml.push_str(&format!("  - {{name: storm{i}, each: platform, when: 'lineQuota > 0', recover_when: 'lineQuota < 0', channel: {destination}}}\n"));
    }
    yaml
}

/// One alert fired and resolved: three notifications Discord must show once each, the card,
/// the card edited to resolved, and the reply that says so.
fn alert_tally(messages: &[StoredMessage]) -> Tally {
    let cards = messages
        .iter()
        .filter(|m| m.body["embeds"].as_array().is_some_and(|e| !e.is_empty()))
        .count();
    let replies = messages.len() - cards;
    let resolved = messages
        .iter()
        .any(|m| m.body["embeds"][0]["color"] == RESOLVED);
    Tally {
        expected: 3,
        delivered: usize::from(cards >= 1) + usize::from(resolved) + usize::from(replies >= 1),
        duplicated: cards.saturating_sub(1) + replies.saturating_sub(1),
        ..Tally::default()
    }
}

/// A storm: every alert must be named by the digests, once: an alert lost and another doubled
/// are both seen.
fn storm_tally(messages: &[StoredMessage]) -> Tally {
    let expected = STORM_RULES * 5;
    let named = named_alerts(messages);
    let distinct: std::collections::BTreeSet<(&str, Option<&str>)> = named
        .iter()
        .filter(|n| {
            n.rule
                .strip_prefix("storm")
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < STORM_RULES)
        })
        .map(|n| (n.rule.as_str(), n.platform.as_deref()))
        .collect();
    Tally {
        expected,
        delivered: distinct.len(),
        duplicated: named.len() - distinct.len(),
        ..Tally::default()
    }
}

/// The matrix for one destination, as a table; the tally of every cell by (failure, step).
async fn measure(heading: &str, to: Destination) -> (String, Vec<(&'static str, Delivery, Tally)>) {
    // Runs at once, most of their time spent in backoffs; few enough that a loaded machine
    // keeps the slow answer well within the harness's timeout.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_RUNS));
    let mut runs = tokio::task::JoinSet::new();
    for (row, (name, failure)) in matrix().into_iter().enumerate() {
        for (column, step) in STEPS.into_iter().enumerate() {
            let failure = failure.clone();
            let slots = slots.clone();
            runs.spawn(async move {
                let _slot = slots
                    .acquire_owned()
                    .await
                    .expect("the semaphore stays open");
                ((row, column), name, step, run(failure, step, to).await)
            });
        }
    }
    let mut cells = runs.join_all().await;
    cells.sort_by_key(|(at, ..)| *at);
    let mut table =
        format!("| {heading} | card post | card edit | reply | digest |\n|---|---|---|---|---|\n");
    let mut totals = Tally::default();
    for row in cells.chunk_by(|a, b| a.0 .0 == b.0 .0) {
        table.push_str(&format!("| {} |", row[0].1));
        for (_, _, _, tally) in row {
            table.push_str(&format!(
                " {} of {}, {} doubled |",
                tally.delivered, tally.expected, tally.duplicated
            ));
            totals.expected += tally.expected;
            totals.delivered += tally.delivered;
            totals.duplicated += tally.duplicated;
        }
        table.push('\n');
    }
    table.push_str(&format!(
        "| **all {} runs** | **{} of {} delivered, {} doubled** | | | |\n",
        cells.len(),
        totals.delivered,
        totals.expected,
        totals.duplicated
    ));
    let cells = cells
        .into_iter()
        .map(|(_, name, step, tally)| (name, step, tally))
        .collect();
    (table, cells)
}

/// Failures that come back as an answer in time: the step is tried once more at most, or,
/// for a slow answer, once.
/// Every failure was met and retried (but the slow answer), and no accepted edit was sent
/// again by the retry of a later step.
fn check_requests(cells: &[(&'static str, Delivery, Tally)], table: &str) {
    for (name, step, tally) in cells {
        assert_eq!(
            tally.edits_resent, 0,
            "{name}, {step:?}: an accepted card edit was sent again\n{table}"
        );
        if name.starts_with("slow answer") {
            assert_eq!(
                tally.tries, 1,
                "{name}, {step:?}: answered in time, not retried\n{table}"
            );
        } else {
            assert!(
                tally.tries >= 2,
                "{name}, {step:?}: the failure was met and retried\n{table}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_discord_failure_at_every_step_loses_nothing_and_duplicates_nothing() {
    let (table, cells) = measure("Discord answers (twice) at", CHANNEL).await;
    for (name, step, tally) in &cells {
        assert_eq!(
            tally.delivered, tally.expected,
            "{name}, {step:?}: lost\n{table}"
        );
        assert_eq!(tally.duplicated, 0, "{name}, {step:?}: duplicated\n{table}");
    }
    check_requests(&cells, &table);
    assert_documented(&table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_a_webhook_only_a_lost_answer_to_a_post_can_post_twice() {
    let (table, cells) = measure("Discord answers (twice) at, to a webhook", WEBHOOK).await;
    // A webhook takes no nonce: only where Discord processed a post whose answer never came
    // back can a retry post a second message. An edit is the same edit again.
    let unanswered = [
        "answer lost after the timeout (Discord stored the message)",
        "connection reset after Discord stored the message",
    ];
    for (name, step, tally) in &cells {
        assert_eq!(
            tally.delivered, tally.expected,
            "{name}, {step:?}: lost\n{table}"
        );
        if tally.duplicated > 0 {
            assert!(
                unanswered.contains(name) && *step != Delivery::CardEdit,
                "{name}, {step:?}: duplicated\n{table}"
            );
        }
    }
    check_requests(&cells, &table);
    assert_documented(&table);
}
