//! Scenario files: the YAML model, validation into a TestPlan, templates,
//! conditions and extractors, data feeds.

pub mod adhoc;
pub mod condition;
pub mod error;
pub mod feed;
mod include;
pub mod jsonpath;
pub mod load;
pub mod locate;
pub mod model;
pub mod model_types;
mod nesting;
mod parse;
pub mod plan;
pub mod schema;
pub mod sse_plan;
mod suggest;
pub mod template;
mod template_expr;
mod validate;
pub mod ws_model;
pub mod ws_plan;
pub mod yaml;

pub use adhoc::{AdhocRequest, adhoc_plan};
pub use condition::{Condition, Extractor, ResponseView};
pub use error::{ScenarioError, ScenarioErrors};
pub use feed::{DataFeed, FeedMode};
pub use load::{LoadOptions, Scale, load, load_str};
pub use model::ScenarioFile;
pub use plan::*;
pub use sse_plan::{CountOp, EventPick, SseCheck, SseCondition, SseExtract, SseStep};
pub use template::{RenderError, Template, TemplateScope};
pub use validate::RESERVED_TAGS;
pub use validate::limits::{
    MAX_RATE_PER_SECOND, MAX_SCALE, MAX_TEST_DURATION, MAX_TEST_DURATION_TEXT, MAX_VUS,
};
pub use ws_plan::{WebSocketStep, WsAction, WsCheck, WsCondition, WsExpect, WsHold, WsPayload};
