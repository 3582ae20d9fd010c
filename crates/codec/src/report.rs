//! The unknown-data policy (PRESERVE, REJECT, DROP; docs/graph-model.md), applied the same way by the reader and the writer.

use crate::pb::{UnknownData, UnknownDataKind, UnknownDataPolicy};

/// The most report entries `reserve_like_first` reserves: the guess comes from the input.
const MAX_RESERVED_ENTRIES: usize = 4096;

/// Reserves room in `entries`, which holds the report of the first action, for `more` actions
/// reporting as much. The report is then allocated about once instead of regrown by doubling,
/// each regrowth copying all it holds (5-6 % of the time on input full of unknown data,
/// BENCHMARKS.md §5).
pub fn reserve_like_first(entries: &mut Vec<UnknownData>, more: usize) {
    entries.reserve(entries.len().saturating_mul(more).min(MAX_RESERVED_ENTRIES));
}

/// What to do with data the schema does not model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Policy {
    #[default]
    Preserve,
    Reject,
    Drop,
}

impl From<UnknownDataPolicy> for Policy {
    fn from(policy: UnknownDataPolicy) -> Self {
        match policy {
            UnknownDataPolicy::Unspecified | UnknownDataPolicy::Preserve => Policy::Preserve,
            UnknownDataPolicy::Reject => Policy::Reject,
            UnknownDataPolicy::Drop => Policy::Drop,
        }
    }
}

/// Collects the unknown-data report of one translation.
pub trait Report {
    fn policy(&self) -> Policy;
    /// Records `entry` in the report.
    fn report(&mut self, entry: UnknownData, dropped: bool);
    /// Records `entry` as a violation (policy REJECT).
    fn reject(&mut self, entry: UnknownData);

    /// Applies the policy to unknown data; true when it is to be kept.
    fn keep_unknown(&mut self, entry: UnknownData) -> bool {
        match self.policy() {
            Policy::Preserve => {
                self.report(entry, false);
                true
            }
            Policy::Drop => {
                self.report(entry, true);
                false
            }
            Policy::Reject => {
                self.reject(entry);
                false
            }
        }
    }

    /// Applies the policy to a known property's value that has no typed form. An unknown enum
    /// member is unknown data; any other untyped value is known data and always kept.
    fn keep_untyped(&mut self, entry: UnknownData) -> bool {
        if entry.kind() == UnknownDataKind::EnumMember {
            self.keep_unknown(entry)
        } else {
            self.report(entry, false);
            true
        }
    }
}
