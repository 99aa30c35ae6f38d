//! Timers as polls meet them: a bot polled every second, each poll a few milliseconds early or
//! late, as real polls land. `for`, `keep_firing_for` and `repeat_every` must run out at the
//! poll nearest to their end, and reminders must keep to their grid instead of slipping a
//! poll each time.

mod support;

use std::time::Duration;

use serde_json::json;
use support::lifecycle::Bot;

const SECOND: Duration = Duration::from_secs(1);

/// How far poll `k` of the one-second grid lands from `k` seconds, in milliseconds.
const JITTER_MS: [i64; 16] = [0, 2, 3, -2, 1, -3, -1, 2, -2, 1, -3, 2, -1, 3, -2, 1];

fn quota(used: i64) -> serde_json::Value {
    json!({"lineQuota": 1000, "lineQuotaConsumption": used})
}

/// Polls at seconds `0..16` (jittered), with the quota high while `high(k)`; returns the
/// events as `"k: Transition rule"` lines.
fn run(yaml: &str, high: impl Fn(i64) -> bool) -> Vec<String> {
    let mut bot = Bot::polled_every(yaml, SECOND);
    let mut events = Vec::new();
    for (k, jitter) in (0..).zip(JITTER_MS) {
        let used = if high(k) { 900 } else { 100 };
        for line in bot.poll_at(k * 1000 + jitter, quota(used)) {
            events.push(format!("{k}: {line}"));
        }
    }
    events
}

#[test]
fn reminders_keep_to_the_grid_of_repeat_every_when_polls_jitter() {
    let events = run(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    repeat_every: 4s\n",
        |k| (2..12).contains(&k),
    );
    // Fired at 2 s (3 ms late): reminders are due at 6 s and 10 s, met by the polls 1 ms and
    // 3 ms early, not by the polls after them.
    assert_eq!(
        events,
        [
            "2: Fired quota",
            "6: Reminder quota",
            "10: Reminder quota",
            "12: Resolved quota"
        ]
    );
}

#[test]
fn reminders_average_repeat_every_when_it_is_no_multiple_of_the_poll_interval() {
    let events = run(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    repeat_every: 2400ms\n",
        |_| true,
    );
    // Due at 2.4, 4.8, 7.2, 9.6, 12 and 14.4 s, each met by the nearest poll: measured from
    // the previous reminder instead, they would come every 2 s.
    assert_eq!(
        events,
        [
            "0: Fired quota",
            "2: Reminder quota",
            "5: Reminder quota",
            "7: Reminder quota",
            "10: Reminder quota",
            "12: Reminder quota",
            "14: Reminder quota"
        ]
    );
}

#[test]
fn for_is_met_at_the_poll_nearest_its_end_when_polls_jitter() {
    let events = run(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    for: 3s\n",
        |k| (2..9).contains(&k),
    );
    // Pending from 2 s (3 ms late); `for` ends at 5.003 s, and the poll at 4.997 s meets it.
    assert_eq!(events, ["5: Fired quota", "9: Resolved quota"]);
}

#[test]
fn keep_firing_for_ends_at_the_poll_nearest_its_end_when_polls_jitter() {
    let events = run(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    keep_firing_for: 3s\n",
        |k| k < 7,
    );
    // Recovered at 7.002 s; `keep_firing_for` ends at 10.002 s, met by the poll at 9.997 s.
    assert_eq!(events, ["0: Fired quota", "10: Resolved quota"]);
}

#[test]
fn a_timer_shorter_than_half_a_poll_still_waits_for_the_next_poll() {
    let events = run(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    for: 400ms\n    keep_firing_for: 400ms\n",
        |k| (2..5).contains(&k),
    );
    // `for` asks that the condition be seen to hold again; `keep_firing_for` that the
    // recovery be seen again.
    assert_eq!(events, ["3: Fired quota", "6: Resolved quota"]);
}

#[test]
fn a_reminder_delayed_by_missing_data_is_sent_once_and_the_next_keeps_a_full_interval() {
    let mut bot = Bot::polled_every(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    repeat_every: 4s\n",
        SECOND,
    );
    let mut events = Vec::new();
    for (k, jitter) in (0..22).zip(JITTER_MS.iter().cycle()) {
        // The figures are missing from 3 s to 8 s: the reminders due at 4 s and 8 s wait.
        let data = if (3..9).contains(&k) {
            json!({})
        } else {
            quota(900)
        };
        for line in bot.poll_at(k * 1000 + jitter, data) {
            events.push(format!("{k}: {line}"));
        }
    }
    assert_eq!(
        events,
        [
            "0: Fired quota",
            "9: Reminder quota",
            "16: Reminder quota",
            "20: Reminder quota"
        ]
    );
}
