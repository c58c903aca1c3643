//! HTTP/1.1 and HTTP/2 client with k6 timing phases.
//!
//! HTTP/1.1 runs inline in the calling task (`h1`: no connection task, so an
//! idle keep-alive connection costs a socket and a 4 KiB buffer); HTTP/2
//! (`h2`) drives the `h2` crate's streams from the calling task, with one
//! task per connection for its frames. Either way every phase (DNS and pool wait, TCP connect, TLS handshake, sending,
//! waiting, receiving) and the exact bytes on the wire can be measured.
//! Layers, from the outside in: [`HttpClient::send`] (defaults, cookies,
//! redirects, deadline) → `exchange` (one hop over a pooled or new
//! connection) → `connect` (DNS, TCP, TLS, handshake) → `io` (counting and
//! timestamping adapter under both).

mod body;
mod client;
mod clock;
mod config;
mod connect;
mod cookies;
mod dns;
mod error;
mod exchange;
mod h1;
mod h2;
mod hosts;
mod io;
mod pool;
pub mod proxy;
mod raw;
mod redact;
mod stream;
mod target;
pub mod tls;
mod types;

pub use client::HttpClient;
pub use config::{
    ClientConfig, ClientConfigError, ClientShared, DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_DECOMPRESSION_RATIO, DEFAULT_USER_AGENT, NetworkConfig, RATIO_FLOOR,
};
pub use dns::{DNS_CACHE_TTL, DnsPolicy, DnsScope};
pub use hosts::{HostOverride, HostOverrides};
pub use raw::{ByteCounters, RawConnection, RawStream, open_raw};
pub use redact::{REDACTED, SECRET_HEADER_WORDS, is_secret_header, redact_headers};
pub use stream::HttpStream;
pub(crate) use target::basic_auth_from_userinfo;
pub use types::*;
