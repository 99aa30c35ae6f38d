//! The scripted story `botwatch demo` plays, one step per poll.
//!
//! Bot "Support bot" climbs through its LINE quota (past 80 %, wobbling around it to show the
//! hysteresis, then past 95 %), loses and regains its Facebook integration, has its quota reset,
//! and finally suffers an API outage and recovers. "Sales bot" stays healthy and was never
//! integrated with Instagram, so it never raises an integration alert.

use std::collections::HashMap;

use super::{simulated_bot, timelines_for, Step, Timeline};
use crate::analytics::{Bot, Snapshot};

const SUPPORT_QUOTA_USED: [i64; 16] = [
    600, 700, 760, 790, 810, 805, 799, 820, 900, 960, 975, 990, 20, 35, 50, 65,
];
/// Steps (0-based) during which the Support bot's Facebook integration is down.
const FB_DOWN: std::ops::Range<usize> = 2..8;
/// Steps during which the API answers 503 for the Support bot.
const OUTAGE: std::ops::Range<usize> = 16..21;
/// Steps in the whole story; the last one repeats after that.
pub const DEMO_STEPS: usize = 24;

/// The two demo bots, with the credentials the simulator expects.
pub fn demo_bots() -> Vec<Bot> {
    vec![
        simulated_bot("demo-support", "Support bot"),
        simulated_bot("demo-sales", "Sales bot"),
    ]
}

/// The scripted timelines of [`demo_bots`], by bot id.
pub fn demo_timelines() -> HashMap<String, Timeline> {
    let support = (0..DEMO_STEPS).map(support_step).collect();
    let sales = (0..DEMO_STEPS)
        .map(|i| Step::respond(sales_snapshot(i)))
        .collect();
    timelines_for(vec![("demo-support", support), ("demo-sales", sales)])
}

fn support_step(i: usize) -> Step {
    if OUTAGE.contains(&i) {
        return Step::Status(503);
    }
    let used = SUPPORT_QUOTA_USED.get(i).copied().unwrap_or(80);
    Step::respond(Snapshot {
        line_quota: Some(1000),
        line_quota_consumption: Some(used),
        line_reply_amounts: Some(used * 6 / 10),
        line_push_amounts: Some(used * 3 / 10),
        line_broadcast_amounts: Some(used / 10),
        line_program: Some("輕用量".to_owned()),
        line_is_integration: Some(true),
        fb_is_integration: Some(!FB_DOWN.contains(&i)),
        instagram_is_integration: Some(false),
        live_chat_is_integration: Some(true),
        whatsapp_is_integration: Some(false),
        line_average_conversation_value: Some(8),
        line_average_conversation_time: Some(120 + i as i64),
        fb_average_conversation_value: Some(6),
        fb_average_conversation_time: Some(95),
        live_chat_average_conversation_value: Some(12),
        live_chat_average_conversation_time: Some(180),
        ..Snapshot::default()
    })
}

fn sales_snapshot(i: usize) -> Snapshot {
    Snapshot {
        line_quota: Some(5000),
        line_quota_consumption: Some(1500 + 10 * i as i64),
        line_program: Some("中用量".to_owned()),
        line_is_integration: Some(true),
        fb_is_integration: Some(true),
        instagram_is_integration: Some(false),
        line_average_conversation_value: Some(5),
        line_average_conversation_time: Some(64),
        ..Snapshot::default()
    }
}
