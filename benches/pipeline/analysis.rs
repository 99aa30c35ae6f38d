//! `/analysis` through the gateway of the real process: from the interaction sent on the fake
//! gateway to botwatch's first response (the interaction callback) reaching the fake Discord,
//! for a bot whose stored data is fresh (polled every second), each asked by another user so
//! that no cooldown is in the way.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fleet::Fleet;
use crate::stage::Stage;
use crate::support::discord::gateway::{FakeGateway, APPLICATION_ID};
use crate::support::interactions::{analysis_json, Asker};

/// How long registration or any one answer may take before the scenario gives up.
const PATIENCE: Duration = Duration::from_secs(30);
/// Between two questions: a person's pace, well inside the callback route's limits.
const PACE: Duration = Duration::from_millis(200);

/// Asks `/analysis` `times` times, about bots of a 100-bot fleet in turn; the time to each
/// first response.
pub async fn first_responses(times: usize) -> Vec<Duration> {
    let gateway = FakeGateway::start().await;
    let stage = Stage::start_with(Fleet::of(100), "", None, |discord| {
        discord.serve_gateway_at(&gateway.url())
    })
    .await;
    let commands = format!("/api/v10/applications/{APPLICATION_ID}/commands");
    let registered = || {
        stage
            .discord
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == commands && r.status == 200)
            .then_some(())
    };
    stage
        .until(PATIENCE, registered)
        .await
        .expect("/analysis is registered once the gateway is ready");
    let mut answers = Vec::with_capacity(times);
    for asked in 0..times {
        let token = format!("bench-analysis-{asked}");
        let user = format!("{}", 700_000_000_000_000_000u64 + asked as u64);
        let bot = format!("b{}", 1 + asked % stage.fleet.bots);
        let mut interaction = analysis_json(
            Asker {
                user: &user,
                options: json!([{"name": "bot", "type": 3, "value": bot}]),
                ..Asker::default()
            },
            &token,
        );
        interaction["id"] = json!(format!("{}", 900_000_000_000_000_000u64 + asked as u64));
        let sent = Instant::now();
        gateway.dispatch("INTERACTION_CREATE", interaction);
        let answered = stage
            .until(PATIENCE, || {
                stage
                    .discord
                    .requests()
                    .iter()
                    .find(|r| r.path.contains(&token) && r.path.ends_with("/callback"))
                    .map(|r| r.at)
            })
            .await
            .expect("/analysis is answered");
        answers.push(answered - sent);
        tokio::time::sleep_until((sent + PACE).into()).await;
    }
    stage.stop("/analysis").await;
    answers
}
