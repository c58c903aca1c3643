//! `DemoConfig::seed`: injected failures on any route repeat exactly
//! between two servers with the same seed, as do cache hits.

mod demo_support;

use std::collections::BTreeMap;

use demo_support::{Client, quick_config, start};
use http::StatusCode;
use stampede::demo::DemoConfig;

/// (500s on `/health?fail=0.3`, 500s on `/api/templates?fail=0.3`, cache
/// hits among the templates answered) over 100 requests to each route.
async fn outcomes(seed: Option<u64>) -> (usize, usize, usize) {
    let server = start(DemoConfig {
        seed,
        latency: BTreeMap::new(),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    let (mut health_failures, mut template_failures, mut hits) = (0, 0, 0);
    for _ in 0..100 {
        let reply = client.get("/health?fail=0.3").await;
        health_failures += usize::from(reply.status == StatusCode::INTERNAL_SERVER_ERROR);
        let reply = client.get("/api/templates?fail=0.3").await;
        match reply.status {
            StatusCode::INTERNAL_SERVER_ERROR => template_failures += 1,
            StatusCode::OK => hits += usize::from(reply.headers["x-cache"] == "HIT"),
            other => panic!("unexpected {other}"),
        }
    }
    server.shutdown().await;
    (health_failures, template_failures, hits)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_counts() {
    let first = outcomes(Some(99)).await;
    assert_eq!(first, (31, 27, 65));
    assert_eq!(outcomes(Some(99)).await, first);
    // Routes draw from their own sequences: their counts differ.
    assert_ne!(first.0, first.1);
}
