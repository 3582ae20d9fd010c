//! Where the codec is in a value: kept as a stack of steps, turned into a JSON pointer or a proto
//! path only for a report entry or a violation (most values need neither).

use std::fmt::Write as _;

use super::json::{push_index_token, push_pointer_token};
use crate::schema::PropertyInfo;

/// The most steps a path holds in place: the deepest value the schema nests is 8 steps down
/// (rule, detectionAction, alertTemplate, entityMappings, hosts, item, property). Inline, so a
/// translation allocates nothing for its paths.
const MAX_STEPS: usize = 16;

#[derive(Debug, Clone, Copy)]
enum Step {
    /// An item of a collection: its index in the input, and in the output written so far.
    Item { input: usize, output: usize },
    /// A property of an object; `case` is the oneof case holding the object's type, if any.
    Property { info: &'static PropertyInfo, case: &'static str },
}

#[derive(Debug)]
pub struct Path {
    /// The proto path's first segment, e.g. `actions` or `rule`.
    root: &'static str,
    steps: [Step; MAX_STEPS],
    len: usize,
}

/// What ends a path: nothing, a key of an object (a JSON member, an additional_data entry), or
/// a proto field name within the current object's type.
#[derive(Debug, Clone, Copy)]
pub enum Tail<'k> {
    None,
    Key(&'k str),
    Field { case: &'k str, field: &'k str },
}

impl Path {
    pub fn new(root: &'static str) -> Self {
        Self { root, steps: [Step::Item { input: 0, output: 0 }; MAX_STEPS], len: 0 }
    }

    pub fn push_item(&mut self, input: usize, output: usize) {
        self.push(Step::Item { input, output });
    }

    pub fn push_property(&mut self, info: &'static PropertyInfo, case: &'static str) {
        self.push(Step::Property { info, case });
    }

    /// Past MAX_STEPS (which the schema never reaches) steps are counted but not kept.
    fn push(&mut self, step: Step) {
        if let Some(slot) = self.steps.get_mut(self.len) {
            *slot = step;
        }
        self.len += 1;
    }

    pub fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// Nesting of the value at this path: each step is one JSON container around it.
    pub fn depth(&self) -> usize {
        self.len
    }

    fn steps(&self) -> &[Step] {
        &self.steps[..self.len.min(MAX_STEPS)]
    }

    /// Whether this is within an item of a collection.
    pub fn in_collection(&self) -> bool {
        self.steps().iter().any(|step| matches!(step, Step::Item { .. }))
    }

    /// Appends the dotted proto field path of `last` within the current object to `out`, as an
    /// update mask names it (`detection_action.alert_template.title`); false, with nothing
    /// appended, inside a collection.
    pub fn push_field_path(&self, last: &PropertyInfo, out: &mut String) -> bool {
        if self.in_collection() {
            return false;
        }
        for step in self.steps() {
            if let Step::Property { info, .. } = step {
                out.push_str(info.proto_name);
                out.push('.');
            }
        }
        out.push_str(last.proto_name);
        true
    }

    /// The JSON pointer, with input indices (reading) or output indices (writing).
    pub fn pointer(&self, output: bool, tail: Tail<'_>) -> String {
        let mut pointer = String::with_capacity(32);
        for step in self.steps() {
            match *step {
                Step::Item { input, output: written } => {
                    push_index_token(&mut pointer, if output { written } else { input })
                }
                Step::Property { info, .. } => {
                    pointer.push('/');
                    push_pointer_token(&mut pointer, info.graph_name);
                }
            }
        }
        if let Tail::Key(key) = tail {
            pointer.push('/');
            push_pointer_token(&mut pointer, key);
        }
        pointer
    }

    /// The proto path in the request, e.g. `rule.detection_action.response_actions[2].isolate_device`.
    pub fn proto(&self, tail: Tail<'_>) -> String {
        let mut path = String::with_capacity(48);
        path.push_str(self.root);
        for step in self.steps() {
            match *step {
                Step::Item { input, .. } => {
                    let _ = write!(path, "[{input}]");
                }
                Step::Property { info, case } => push_field(&mut path, case, info.proto_name),
            }
        }
        match tail {
            Tail::None => {}
            Tail::Key(key) => {
                let _ = write!(path, ".additional_data[{key:?}]");
            }
            Tail::Field { case, field } => push_field(&mut path, case, field),
        }
        path
    }
}

fn push_field(path: &mut String, case: &str, field: &str) {
    for segment in [case, field] {
        if !segment.is_empty() {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
    }
}
