//! HTTP/1.1 without a connection task: the VU's own task writes the request
//! and reads the response, and an idle connection is plain data in the pool.
//! (HTTP/2, in `h2`, keeps a task per connection: multiplexed streams need
//! one reader of the socket.)

mod chunked;
mod codec;
mod conn;

pub(super) use conn::{H1BodyReader, H1Conn, Io};
