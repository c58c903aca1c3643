//! The `--metrics-listen` scrape endpoint. Placeholder in the outcfg branch
//! so the CLI wiring compiles; the Prometheus branch replaces this file.

use std::net::SocketAddr;

use crate::metrics::Sink;
use crate::output::OutputContext;

pub async fn serve(
    _addr: SocketAddr,
    _ctx: &OutputContext,
) -> Result<Box<dyn Sink>, std::io::Error> {
    Err(std::io::Error::other("not built"))
}
