//! What templates see from inside a VU: its variables, its data rows, its identity.

use std::sync::Arc;

use crate::scenario::{DataFeed, FeedId, FeedMode, TemplateScope, VarSlot};

pub struct VuScope {
    pub vu_id: u64,
    pub iteration: u64,
    pub scenario: Arc<str>,
    pub vars: Vec<Option<String>>,
    feeds: Vec<Arc<DataFeed>>,
    /// Current row of each feed.
    rows: Vec<usize>,
}

impl VuScope {
    pub fn new(
        vu_id: u64,
        scenario: Arc<str>,
        globals: &[Option<String>],
        feeds: &[Arc<DataFeed>],
    ) -> Self {
        let rows = feeds
            .iter()
            .map(|feed| match feed.mode {
                FeedMode::PerVu => feed.row_for_vu(vu_id),
                FeedMode::Sequential | FeedMode::Random => 0,
            })
            .collect();
        VuScope {
            vu_id,
            iteration: 0,
            scenario,
            vars: globals.to_vec(),
            feeds: feeds.to_vec(),
            rows,
        }
    }

    /// Moves shared-sequential and random feeds to their row for the next iteration.
    pub fn advance_rows(&mut self, rng: &mut impl rand::Rng) {
        for (feed, row) in self.feeds.iter().zip(self.rows.iter_mut()) {
            match feed.mode {
                FeedMode::PerVu => {}
                FeedMode::Sequential => *row = feed.next_sequential(),
                FeedMode::Random => *row = feed.random_row(rng),
            }
        }
    }

    pub fn set_var(&mut self, slot: VarSlot, value: Option<String>) {
        self.vars[slot.0 as usize] = value;
    }
}

impl TemplateScope for VuScope {
    fn var(&self, slot: VarSlot) -> Option<&str> {
        self.vars.get(slot.0 as usize)?.as_deref()
    }

    fn data(&self, feed: FeedId, column: usize) -> Option<&str> {
        let f = self.feeds.get(feed.0 as usize)?;
        let row = f.rows.get(*self.rows.get(feed.0 as usize)?)?;
        row.get(column).map(String::as_str)
    }

    fn vu_id(&self) -> u64 {
        self.vu_id
    }

    fn iteration(&self) -> u64 {
        self.iteration
    }

    fn scenario(&self) -> &str {
        &self.scenario
    }
}
