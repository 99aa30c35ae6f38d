//! `botwatch healthcheck`: asks a running botwatch's `/healthz`, for container HEALTHCHECKs
//! (no curl needed in the image).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use serde::Deserialize;

pub(super) fn healthcheck(url: Option<String>, config: &Path) -> anyhow::Result<ExitCode> {
    let url = match url {
        Some(url) => url,
        None => {
            let mut listen = listen_address(config)?;
            if listen.ip().is_unspecified() {
                listen.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{listen}/healthz")
        }
    };
    let answer = super::runtime()?.block_on(async {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?
            .get(&url)
            .send()
            .await
    });
    match answer {
        Ok(response) if response.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(response) => {
            eprintln!("{url} answered {}", response.status());
            Ok(ExitCode::from(1))
        }
        Err(error) => {
            eprintln!("{url} did not answer: {}", error.without_url());
            Ok(ExitCode::from(1))
        }
    }
}

/// `server.listen` of the config, read without resolving anything else (a health check needs
/// no secrets).
fn listen_address(config: &Path) -> anyhow::Result<std::net::SocketAddr> {
    #[derive(Deserialize)]
    struct Server {
        listen: Option<std::net::SocketAddr>,
    }
    #[derive(Deserialize)]
    struct OnlyServer {
        server: Option<Server>,
    }
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let parsed: OnlyServer =
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    parsed
        .server
        .and_then(|s| s.listen)
        .context("the config has no server.listen, so there is no /healthz to ask")
}
