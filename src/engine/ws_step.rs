//! The `websocket` step: connect, run the session's steps in order (send,
//! expect, hold), close. The upgrade is recorded like a request (so status,
//! wire bytes of the whole session and the error code land in `http_req_*`,
//! `data_*` and the ERRORS table, as a failed `sse` stream does), plus the
//! `ws_*` metrics; session checks run at the end, reply checks and
//! extractions as each reply matches.

use std::time::{Duration, Instant};

use http::header::USER_AGENT;
use http::{HeaderMap, HeaderValue};
use tokio_tungstenite::tungstenite::Message;

use super::in_flight::InFlight;
use super::request::NamedStep;
use super::vu::{IterationError, Vu};
use crate::metrics::{HttpSample, builtin};
use crate::protocol::http::Proto;
use crate::protocol::websocket::{
    self, Incoming, WsConnectRequest, WsError, WsErrorCode, WsSession,
};
use crate::scenario::{
    ResponseView, WebSocketStep, WsAction, WsCondition, WsExpect, WsHold, WsPayload,
};

/// How long a clean close waits for the server's close reply.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// How long a `send` may wait for the server to take the message.
const SEND_WAIT: Duration = Duration::from_secs(10);

/// The status conditions on a reply see: the session's `101`.
const SWITCHING_PROTOCOLS: u16 = 101;

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a session did.
#[derive(Default)]
struct SessionTally {
    sent: u64,
    received: u64,
    error: Option<WsError>,
}

/// The open session and the instants replies are timed from.
struct Live {
    ws: WsSession,
    /// The last send (or the open, before any send): replies are timed from it.
    last_send: Instant,
    /// Payload and send instant of the ping awaiting its pong.
    ping: Option<(u64, Instant)>,
    pings_sent: u64,
}

impl Vu {
    pub async fn websocket(&mut self, step: &WebSocketStep) -> Result<(), IterationError> {
        let request = self.ws_request(step)?;
        self.requests_in_iteration += 1;
        let started = Instant::now();
        let ctx = self.ctx.clone();
        let in_flight = InFlight::new(&ctx.recorder, step.upgrade_tag_set);
        // The VU's client: its scenario's TLS settings, if it has its own;
        // the step's own `tls` (merged over those at load) for the handshake.
        let (handshake, opened) = websocket::connect(self.client.shared(), request).await;
        let recorder = &ctx.recorder;
        let (mut tally, mut bytes) = (
            SessionTally::default(),
            (handshake.bytes_sent, handshake.bytes_received),
        );
        let mut render_error = None;
        match opened {
            Ok(ws) => {
                recorder.trend(
                    builtin::WS_CONNECTING,
                    step.tag_set,
                    millis(handshake.connect_time),
                );
                recorder.add(builtin::WS_SESSIONS, step.tag_set, 1.0);
                let counters = ws.counters();
                let mut live = Live {
                    ws,
                    last_send: Instant::now(),
                    ping: None,
                    pings_sent: 0,
                };
                render_error = self.run_session(step, &mut live, &mut tally).await.err();
                match &tally.error {
                    // Still open and healthy: say goodbye properly.
                    None
                    | Some(WsError {
                        code: WsErrorCode::Timeout,
                        ..
                    }) => live.ws.close(CLOSE_WAIT).await,
                    // Closed, reset or broken: nothing to close politely.
                    Some(_) => drop(live),
                }
                recorder.trend(
                    builtin::WS_SESSION_DURATION,
                    step.tag_set,
                    millis(started.elapsed()),
                );
                bytes = (counters.written(), counters.read());
            }
            Err(error) => tally.error = Some(error),
        }
        if let Some(error) = &tally.error {
            tracing::debug!(name = %step.name, code = error.code.as_str(), message = %error.message, "websocket session failed");
        }
        in_flight.done();
        let error_code = tally.error.as_ref().map(|e| e.code.as_str());
        recorder.record_http(&HttpSample {
            tags: step.upgrade_tag_set,
            status: handshake.status,
            expected: error_code.is_none() && handshake.status == SWITCHING_PROTOCOLS,
            error_code,
            // The upgrade is always HTTP/1.1 (h2 cannot carry it).
            proto: (handshake.status != 0).then(|| Proto::Http1.as_str()),
            timings: handshake.timings,
            bytes_sent: bytes.0,
            bytes_received: bytes.1,
        });
        for check in &step.checks {
            let passed = match &check.condition {
                WsCondition::Status(set) => set.contains(handshake.status),
                WsCondition::ErrorCode(code) => error_code == Some(code.as_str()),
                WsCondition::MessagesReceived(op, n) => op.holds(tally.received, *n),
                WsCondition::MessagesSent(op, n) => op.holds(tally.sent, *n),
            };
            recorder.rate(builtin::CHECKS, check.tag_set, passed);
        }
        render_error.map_or(Ok(()), Err)
    }

    /// Runs the steps until the end or the first failure (kept in the
    /// tally). A template that cannot be rendered ends the iteration.
    async fn run_session(
        &mut self,
        step: &WebSocketStep,
        live: &mut Live,
        tally: &mut SessionTally,
    ) -> Result<(), IterationError> {
        for action in &step.actions {
            let outcome = match action {
                WsAction::Send(payload) => {
                    let message = self.ws_message(payload, step)?;
                    self.ws_send(live, tally, step, message).await
                }
                WsAction::Expect(expect) => self.ws_expect(live, tally, step, expect).await,
                WsAction::Hold(hold) => self.ws_hold(live, tally, step, hold).await,
            };
            if let Err(error) = outcome {
                tally.error = Some(error);
                break;
            }
        }
        Ok(())
    }

    async fn ws_send(
        &self,
        live: &mut Live,
        tally: &mut SessionTally,
        step: &WebSocketStep,
        message: Message,
    ) -> Result<(), WsError> {
        let deadline = tokio::time::Instant::now() + SEND_WAIT;
        live.ws.send_until(message, deadline).await?;
        live.last_send = Instant::now();
        tally.sent += 1;
        self.ctx
            .recorder
            .add(builtin::WS_MSGS_SENT, step.tag_set, 1.0);
        Ok(())
    }

    /// Reads until a message matches; the others are counted and skipped.
    async fn ws_expect(
        &mut self,
        live: &mut Live,
        tally: &mut SessionTally,
        step: &WebSocketStep,
        expect: &WsExpect,
    ) -> Result<(), WsError> {
        let deadline = tokio::time::Instant::now() + expect.timeout;
        let no_headers = HeaderMap::new();
        loop {
            // Checked before each read: `timeout_at` polls the read first,
            // and a server flooding unmatched messages keeps it ready.
            let timed_out = || {
                WsError::new(
                    WsErrorCode::Timeout,
                    format!(
                        "no matching reply for {:?} within {:?}",
                        expect.name, expect.timeout
                    ),
                )
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(timed_out());
            }
            let incoming = tokio::time::timeout_at(deadline, live.ws.recv())
                .await
                .map_err(|_| timed_out())??;
            let arrived = Instant::now();
            let body: &[u8] = match &incoming {
                Incoming::Pong(payload) => {
                    self.ws_pong(live, step, payload, arrived);
                    continue;
                }
                Incoming::Text(text) => text.as_bytes(),
                Incoming::Binary(data) => data,
            };
            tally.received += 1;
            let recorder = &self.ctx.recorder;
            recorder.add(builtin::WS_MSGS_RECEIVED, step.tag_set, 1.0);
            let waited = arrived - live.last_send;
            let view = ResponseView::new(SWITCHING_PROTOCOLS, &no_headers, body, waited);
            let matched = expect
                .matcher
                .as_ref()
                .is_none_or(|m| m.evaluate(&view, &self.scope));
            if !matched {
                tokio::task::consume_budget().await;
                continue;
            }
            recorder.trend(builtin::WS_REPLY_TIME, expect.tag_set, millis(waited));
            for check in &expect.checks {
                let passed = check.condition.evaluate(&view, &self.scope);
                recorder.rate(builtin::CHECKS, check.tag_set, passed);
            }
            let values: Vec<_> = expect
                .extract
                .iter()
                .map(|(slot, source)| (*slot, source.extract(&view)))
                .collect();
            for (slot, value) in values {
                self.scope.set_var(slot, value);
            }
            return Ok(());
        }
    }

    /// Keeps the session open for the hold's duration, pinging at every
    /// multiple of the interval strictly before the end, and counting the
    /// data messages that arrive meanwhile.
    async fn ws_hold(
        &self,
        live: &mut Live,
        tally: &mut SessionTally,
        step: &WebSocketStep,
        hold: &WsHold,
    ) -> Result<(), WsError> {
        let start = tokio::time::Instant::now();
        let end = start + hold.duration;
        let mut next_ping = hold.ping_interval.map(|every| start + every);
        loop {
            let wake = next_ping.filter(|at| *at < end).unwrap_or(end);
            enum Event {
                Timer,
                Message(Result<Incoming, WsError>),
            }
            // Biased to the timer: a flood keeps `recv` ready.
            let event = tokio::select! {
                biased;
                _ = tokio::time::sleep_until(wake) => Event::Timer,
                received = live.ws.recv() => Event::Message(received),
            };
            match event {
                Event::Timer if wake >= end => return Ok(()),
                Event::Timer => {
                    live.pings_sent += 1;
                    let payload = live.pings_sent;
                    // Bounded by the hold: a server that does not read
                    // cannot keep the session past it.
                    let ping = Message::Ping(payload.to_be_bytes().to_vec().into());
                    live.ws.send_until(ping, end).await?;
                    live.ping = Some((payload, Instant::now()));
                    next_ping = hold.ping_interval.map(|every| wake + every);
                }
                Event::Message(received) => match received? {
                    Incoming::Pong(payload) => self.ws_pong(live, step, &payload, Instant::now()),
                    Incoming::Text(_) | Incoming::Binary(_) => {
                        tally.received += 1;
                        self.ctx
                            .recorder
                            .add(builtin::WS_MSGS_RECEIVED, step.tag_set, 1.0);
                    }
                },
            }
        }
    }

    /// A pong answering the outstanding ping feeds `ws_ping`; others
    /// (unsolicited, or for a ping already superseded) are ignored.
    fn ws_pong(&self, live: &mut Live, step: &WebSocketStep, payload: &[u8], at: Instant) {
        if let Some((sent, when)) = live.ping
            && payload == sent.to_be_bytes()
        {
            live.ping = None;
            self.ctx
                .recorder
                .trend(builtin::WS_PING, step.tag_set, millis(at - when));
        }
    }

    fn ws_request(&self, step: &WebSocketStep) -> Result<WsConnectRequest, IterationError> {
        let url = self.text(&step.url, step)?;
        let mut headers = self.headers(&step.headers, step)?;
        if !headers.contains_key(USER_AGENT)
            && let Ok(agent) = HeaderValue::from_str(&self.ctx.plan.http.user_agent)
        {
            headers.insert(USER_AGENT, agent);
        }
        Ok(WsConnectRequest {
            url,
            headers,
            subprotocols: step.subprotocols.clone(),
            timeout: step.connect_timeout,
            tls: step.tls.clone(),
        })
    }

    fn ws_message(
        &self,
        payload: &WsPayload,
        step: &WebSocketStep,
    ) -> Result<Message, IterationError> {
        Ok(match payload {
            WsPayload::Text(t) | WsPayload::Json(t) => Message::text(self.text(t, step)?),
            WsPayload::Binary(data) => Message::Binary(data.clone()),
        })
    }
}

impl NamedStep for WebSocketStep {
    fn kind(&self) -> &'static str {
        "websocket"
    }
    fn name(&self) -> &str {
        &self.name
    }
}
