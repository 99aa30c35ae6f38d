//! Properties of the alert lifecycle over arbitrary timelines (proptest): whatever the
//! conditions, timings and poll intervals, alerts fire and resolve in pairs, respect `for` and
//! `keep_firing_for` (met at the poll nearest to them, never more than half a poll early) and
//! remind no more often than `repeat_every` allows.

use std::time::Duration;

use botwatch::alerts::lifecycle::{step, Tick, Timing, Transition};
use botwatch::alerts::{AlertInstance, AlertKey};
use botwatch::time::Timestamp;
use proptest::prelude::*;

/// One evaluation: seconds since the previous one, `when`, `recover_when` (None: unknown).
type Evaluation = (u16, Option<bool>, Option<bool>);

fn evaluations() -> impl Strategy<Value = Vec<Evaluation>> {
    prop::collection::vec(
        (
            0u16..600,
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        ),
        0..200,
    )
}

fn timing() -> impl Strategy<Value = Timing> {
    (0u64..900, 0u64..900, prop::option::of(1u64..3600)).prop_map(|(pending, keep, repeat)| {
        Timing {
            pending_for: Duration::from_secs(pending),
            keep_firing_for: Duration::from_secs(keep),
            repeat_every: repeat.map(Duration::from_secs),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fired_and_resolved_alternate_and_respect_for_and_keep_firing_for(
        timeline in evaluations(),
        timing in timing(),
        poll_interval in (0u64..=120).prop_map(Duration::from_secs),
    ) {
        let key = AlertKey { rule: "r".into(), bot_id: "b".into(), platform: None };
        let mut now = Timestamp(1_700_000_000_000);
        let mut state: Option<AlertInstance> = None;
        let mut firing = false;
        let mut last_notice = now;
        let early = poll_interval / 2;
        for (seconds, fire, recover) in timeline {
            now = now.plus(Duration::from_secs(u64::from(seconds)));
            let before = state.clone();
            let stepped = step(&key, state.take(), fire, recover, &timing, Tick { now, poll_interval });
            match stepped.transition.as_ref().map(|(t, _)| *t) {
                Some(Transition::Fired) => {
                    prop_assert!(!firing, "two fired in a row");
                    let pending_since = before.as_ref().map_or(now, |i| i.active_since);
                    prop_assert!(now.since(pending_since) + early >= timing.pending_for, "fired over half a poll before `for` elapsed");
                    prop_assert!(timing.pending_for.is_zero() || now > pending_since, "fired at the poll that started `for`");
                    firing = true;
                    last_notice = now;
                }
                Some(Transition::Resolved) => {
                    prop_assert!(firing, "resolved without having fired");
                    if !timing.keep_firing_for.is_zero() {
                        let clearing = before.as_ref().and_then(|i| i.clearing_since);
                        prop_assert!(clearing.is_some_and(|c| now > c && now.since(c) + early >= timing.keep_firing_for), "resolved before keep_firing_for elapsed");
                    }
                    firing = false;
                }
                Some(Transition::Reminder) => {
                    prop_assert!(firing, "a reminder for an alert that is not firing");
                    let every = timing.repeat_every.expect("reminders only with repeat_every");
                    prop_assert!(now.since(last_notice) + poll_interval >= every, "reminders closer than repeat_every less one poll");
                    last_notice = now;
                }
                None => {}
            }
            if fire.is_none() && recover.is_none() {
                prop_assert_eq!(stepped.next.as_ref(), before.as_ref(), "unknown must change nothing");
            }
            state = stepped.next;
        }
    }
}
