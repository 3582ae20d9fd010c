//! Update masks over a rule. RuleFromGraph returns the fields a rule's JSON held, nulls included,
//! as update-mask paths (`Present`); RuleToGraph, given such a mask, writes only the fields it
//! selects, those unset as null (`Mask`, `Want`). Read and written back, a PATCH body keeps its
//! members, nulls included.

use std::collections::BTreeMap;

use super::{Violation, path::Path};
use crate::schema::{PropertyInfo, TypeInfo};

/// The fields read of one rule, as update-mask paths, in the order read: one text, so that a
/// rule's dozens of paths cost no allocation each.
#[derive(Debug)]
pub struct Present {
    text: String,
    /// Where each path ends in `text`.
    ends: Vec<usize>,
}

/// Room for the paths of a whole rule (the fixtures' rules hold 30 to 50, of ~25 bytes), reserved
/// at once rather than regrown by doubling.
const RULE_PATHS: usize = 64;
const RULE_PATH_BYTES: usize = 32 * RULE_PATHS;

impl Present {
    pub fn for_rule() -> Self {
        Present { text: String::with_capacity(RULE_PATH_BYTES), ends: Vec::with_capacity(RULE_PATHS) }
    }

    /// Where the paths stand before a value is read, for `note_read`.
    pub fn mark(&self) -> usize {
        self.ends.len()
    }

    /// Whether a mask can name the field at `path`: not within a collection's item.
    pub fn can_name(path: &Path) -> bool {
        !path.in_collection()
    }

    /// Notes `property`, at `path`, as held (when a mask can name it).
    pub fn note(&mut self, path: &Path, property: &PropertyInfo) {
        if path.push_field_path(property, &mut self.text) {
            self.ends.push(self.text.len());
        }
    }

    /// Notes `property` as held once its value was read (from `mark`), unless it is an object
    /// whose own fields were noted meanwhile: the mask names those, so that a PATCH body holds
    /// only them.
    pub fn note_read(&mut self, path: &Path, property: &PropertyInfo, mark: usize) {
        if property.object().is_none() || self.mark() == mark {
            self.note(path, property);
        }
    }

    /// The paths, in the order read.
    pub fn paths(&self) -> impl Iterator<Item = &str> + Clone {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.text[start..end])
    }

    pub fn into_paths(self) -> Vec<String> {
        self.paths().map(str::to_owned).collect()
    }
}

/// The fields an update mask selects, as a tree of proto field names; a leaf takes the whole field.
#[derive(Debug, Default)]
pub struct Mask {
    children: BTreeMap<&'static str, Mask>,
}

impl Mask {
    /// The mask of `paths` over the type `root`.
    pub fn parse(paths: &[String], root: &'static TypeInfo) -> Result<Mask, Vec<Violation>> {
        let mut mask = Mask::default();
        let mut violations = Vec::new();
        for (index, path) in paths.iter().enumerate() {
            if let Err(description) = mask.add(path, root) {
                violations.push(Violation::new(format!("update_mask.paths[{index}]"), description));
            }
        }
        if violations.is_empty() { Ok(mask) } else { Err(violations) }
    }

    fn add(&mut self, path: &str, root: &'static TypeInfo) -> Result<(), String> {
        let mut node = self;
        let mut info = Some(root);
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let Some(within) = info else {
                return Err(format!("{path:?}: a mask stops at a repeated or polymorphic field; mask it whole"));
            };
            let Some(property) = within.properties.iter().find(|p| p.proto_name == segment) else {
                return Err(format!("{path:?}: {} has no field {segment:?}", within.graph_name));
            };
            let whole = node.children.get(property.proto_name).is_some_and(|child| child.children.is_empty());
            if whole {
                return Ok(()); // a parent path already takes all of it
            }
            node = node.children.entry(property.proto_name).or_default();
            info = property.object();
            if segments.peek().is_none() {
                node.children.clear();
            }
        }
        Ok(())
    }
}

/// What to write of one property.
pub enum Want<'m> {
    /// Not in the update mask.
    Skip,
    /// All of it; when `clear`, null if unset (the field is masked).
    Whole { clear: bool },
    /// The masked part of a complex value.
    Part(&'m Mask),
}

impl<'m> Want<'m> {
    pub fn of(mask: Option<&'m Mask>, property: &PropertyInfo) -> Self {
        match mask.map(|m| m.children.get(property.proto_name)) {
            None => Want::Whole { clear: false },
            Some(None) => Want::Skip,
            Some(Some(child)) if child.children.is_empty() => Want::Whole { clear: true },
            Some(Some(child)) => Want::Part(child),
        }
    }
}
