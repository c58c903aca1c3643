//! Protocols a VU speaks. Each returns one result record per exchange and
//! never an `Err`: failures are results with an error code, so the engine
//! records them like any other request.

pub mod http;
pub mod sse;
pub mod websocket;
