//! Secrets stay secret: the bot's API token and secret, the Discord bot token and a webhook's
//! token never appear in what botwatch prints (at the most verbose log level), in what it
//! sends to Discord (over REST and the gateway), or in its state file, even when the analytics
//! API echoes them back.

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::Step;
use serde_json::json;
use support::discord::gateway::FakeGateway;
use support::discord::FakeDiscord;
use support::process::{wait_until, Running};
use support::{fake_analytics, project_root, snapshot};

const API_TOKEN: &str = "b1-token";
const API_SECRET: &str = "b1-secret";
const DISCORD_TOKEN: &str = "discord-bot-token-0123456789";
const WEBHOOK_TOKEN: &str = "hooktoken-0123456789abcdef";
const SECRETS: [&str; 4] = [API_TOKEN, API_SECRET, DISCORD_TOKEN, WEBHOOK_TOKEN];

fn quota_99() -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 990}),
    ))
}

/// The secrets found in `text`: as text, or as a Debug list of their bytes (how the
/// websocket crate logs a frame it sends).
fn shown(text: &str) -> Vec<&'static str> {
    SECRETS
        .into_iter()
        .filter(|s| {
            let bytes = format!("{:?}", s.as_bytes());
            text.contains(s) || text.contains(bytes.trim_matches(['[', ']']))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_discord_or_the_state_file_even_when_the_api_echoes_it() {
    let echo = format!("secret {API_SECRET} expired for token {API_TOKEN}");
    let steps = vec![
        quota_99(),
        Step::Reject(echo.clone()),
        Step::Reject(echo),
        Step::RawBody(format!(
            r#"{{"success": true, "lineQuota": "{API_TOKEN}"}}"#
        )),
        quota_99(),
    ];
    let sim = fake_analytics(vec![("b1", steps)]).await;
    let fake = FakeDiscord::start().await;
    // The gateway too: its IDENTIFY carries the bot token.
    let gateway = FakeGateway::start().await;
    fake.serve_gateway_at(&gateway.url());
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"analytics: {{base_url: "{sim}", poll_interval: 1s, timeout: 1s}}
bots:
  - {{id: b1, name: Support, token: "${{BW_TOKEN}}", secret: "${{BW_SECRET}}"}}
rules: {rules}
state: state/botwatch.db
discord:
  token: ${{BW_DISCORD}}
  api_base_url: {fake}
  destinations: {{ops: {{channel: "111"}}, hook: {{webhook: "${{BW_WEBHOOK}}"}}}}
  route: {{default: ops, critical: hook}}
"#,
        sim = sim.base_url(),
        fake = fake.base_url(),
        rules = project_root().join("rules.yaml").display(),
    );
    std::fs::write(dir.path().join("botwatch.yaml"), config).unwrap();
    let webhook = format!("{}/api/webhooks/333/{WEBHOOK_TOKEN}", fake.base_url());
    let env = [
        ("BW_TOKEN", API_TOKEN),
        ("BW_SECRET", API_SECRET),
        ("BW_DISCORD", DISCORD_TOKEN),
        ("BW_WEBHOOK", webhook.as_str()),
        // Every crate's every log line, reqwest's and hyper's included.
        ("RUST_LOG", "trace"),
    ];
    let running = Running::start(dir.path(), &["run", "--config", "botwatch.yaml"], &env);
    // The API fails three polls in a row, so the `analytics-api-failing` card (critical, to
    // the webhook) shows the last error; then the API recovers and the card is resolved.
    let resolved_api_card = || {
        fake.messages("webhook:333").iter().any(|m| {
            m.body["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|f| f.contains("analytics-api-failing"))
                && m.body["embeds"][0]["color"] == 0x2EAD5B
        })
    };
    let seen = wait_until(Duration::from_secs(30), || {
        resolved_api_card() && gateway.identifies() >= 1
    })
    .await;
    running.signal("TERM");
    let ended = running.wait();
    assert!(
        seen,
        "the api alert fired and resolved, the gateway identified ({}): {:#?}",
        gateway.identifies(),
        fake.requests()
    );
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("[REDACTED]"),
        "the echoed credentials were logged, redacted"
    );

    let logs = format!("{}\n{}", ended.stdout, ended.stderr);
    assert_eq!(shown(&logs), Vec::<&str>::new(), "in the output");
    for request in fake.requests() {
        let body = request.body.to_string();
        assert_eq!(shown(&body), Vec::<&str>::new(), "in {}", request.path);
    }
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.body.to_string().contains("[REDACTED]")),
        "the api card shows the last error, redacted"
    );
    let mut state_files = 0;
    for entry in std::fs::read_dir(dir.path().join("state")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        state_files += 1;
        assert_eq!(
            shown(&String::from_utf8_lossy(&bytes)),
            Vec::<&str>::new(),
            "in the state"
        );
    }
    assert!(state_files >= 1);
    fake.assert_no_violations();
}

#[test]
fn debug_output_of_the_loaded_configuration_shows_no_secret() {
    // What a panic message or a `{:?}` in a log line would print.
    let text = r#"analytics: {base_url: "http://127.0.0.1:9/"}
bots: [{id: b1, token: "${T}", secret: "${S}"}]
discord:
  token: ${D}
  destinations: {hook: {webhook: "http://127.0.0.1:9/api/webhooks/1/${W}"}}
  route: {default: hook}
"#;
    let env = |name: &str| match name {
        "T" => Some(API_TOKEN.to_owned()),
        "S" => Some(API_SECRET.to_owned()),
        "D" => Some(DISCORD_TOKEN.to_owned()),
        "W" => Some(WEBHOOK_TOKEN.to_owned()),
        _ => None,
    };
    let config =
        botwatch::config::Config::parse("c.yaml", text, std::path::Path::new("."), &env).unwrap();
    let discord = config.discord.as_ref().unwrap();
    let botwatch::discord::destination::Destination::Webhook(hook) = &discord.destinations["hook"]
    else {
        panic!("a webhook destination");
    };
    use secrecy::ExposeSecret;
    assert_eq!(
        hook.token.expose_secret(),
        WEBHOOK_TOKEN,
        "the secrets were loaded"
    );
    assert_eq!(
        discord.token.as_ref().unwrap().expose_secret(),
        DISCORD_TOKEN
    );
    let debug = format!("{config:?} {config:#?}");
    assert!(debug.contains("REDACTED"), "{debug}");
    assert_eq!(shown(&debug), Vec::<&str>::new(), "{debug}");
}
