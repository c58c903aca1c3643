//! Check results regrouped from the `checks` rate metric: one entry per
//! `check` tag, nested by the `group` tag (k6's `::outer::inner` paths).

use crate::metrics::{SeriesValue, Summary};

/// The k6 name of the rate metric that holds check results.
pub const CHECKS_METRIC: &str = "checks";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub name: String,
    pub passes: u64,
    pub fails: u64,
}

/// A group and what ran inside it; the root group has an empty name and path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupChecks {
    pub name: String,
    /// k6's path: `::outer::inner`, empty for the root.
    pub path: String,
    pub checks: Vec<CheckResult>,
    pub groups: Vec<GroupChecks>,
}

impl GroupChecks {
    /// Builds the tree; groups and checks keep the order of the (tag-sorted)
    /// series. Series without a `check` tag are not named checks and are
    /// left out here (they still count in `checks_total`).
    pub fn from_summary(summary: &Summary) -> GroupChecks {
        let mut root = GroupChecks::default();
        let Some(metric) = summary.metric(CHECKS_METRIC) else {
            return root;
        };
        for (tags, value) in &metric.series {
            let (Some(name), SeriesValue::Rate { trues, total }) = (tags.get("check"), value)
            else {
                continue;
            };
            let path: Vec<&str> = tags
                .get("group")
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let group = root.descend(&path);
            let fails = total.saturating_sub(*trues);
            match group.checks.iter_mut().find(|c| c.name == name) {
                Some(check) => {
                    check.passes += trues;
                    check.fails += fails;
                }
                None => group.checks.push(CheckResult {
                    name: name.to_string(),
                    passes: *trues,
                    fails,
                }),
            }
        }
        root
    }

    fn descend(&mut self, path: &[&str]) -> &mut GroupChecks {
        let Some((first, rest)) = path.split_first() else {
            return self;
        };
        let index = match self.groups.iter().position(|g| g.name == *first) {
            Some(i) => i,
            None => {
                self.groups.push(GroupChecks {
                    name: first.to_string(),
                    path: format!("{}::{first}", self.path),
                    ..GroupChecks::default()
                });
                self.groups.len() - 1
            }
        };
        self.groups[index].descend(rest)
    }

    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.groups.iter().all(GroupChecks::is_empty)
    }
}
