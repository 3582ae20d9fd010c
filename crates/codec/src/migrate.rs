//! MigrateRule: a detection rule in the retired Graph shape -> the same rule in the current one.
//!
//! The moves of single fields are Graph's own (docs/graph-model.md: `isEnabled` -> `status`,
//! `period` -> `frequency`, `scopeNames` -> `deviceGroups`). Response actions and impacted assets
//! move by the schema: each retired type names the collection replacing it (`graph_migrates_to`)
//! and each identifier member its hunting column (`graph_column`), so this module has no table
//! of its own. What has no exact equivalent is left out with a note quoting it, never guessed.

use std::collections::BTreeMap;

use prost_types::Duration;

use crate::{
    json::push_pointer_token,
    pb::{DetectionRule, DetectionRuleStatus, MigrationNote, OrganizationalScope, ScopeType},
    schema::{Column, EnumSchema, GraphObject, GraphType, GraphView, Member, Shape, Slot, TypeInfo, Value},
    writer::{object_to_graph, value_to_graph},
};

/// A migrated rule.
#[derive(Debug, Default)]
pub struct Migrated {
    pub rule: DetectionRule,
    /// The update-mask paths of what to write: those of the input, moved to the current shape.
    pub present: Vec<String>,
    pub notes: Vec<MigrationNote>,
}

/// Moves `rule` (read from Graph JSON whose fields were `present`) to the current shape.
pub fn migrate(mut rule: DetectionRule, present: Vec<String>, max_depth: usize) -> Migrated {
    let original = rule.clone();
    let mut migration = Migration { original: &original, max_depth, notes: Vec::new(), moves: BTreeMap::new() };
    migration.status(&mut rule);
    migration.schedule(&mut rule);
    migration.retired(&mut rule);
    if let Some(action) = &mut rule.detection_action {
        migration.scope(action.organizational_scope.as_mut());
        let (items, raw) =
            (std::mem::take(&mut action.response_actions), action.additional_data.remove("responseActions"));
        let field = Retired { parent: "detection_action", field: "response_actions", replacement: "automated_actions" };
        migration.collection(&items, raw, &mut action.automated_actions, field);
        if let Some(template) = &mut action.alert_template {
            let (items, raw) =
                (std::mem::take(&mut template.impacted_assets), template.additional_data.remove("impactedAssets"));
            let field = Retired {
                parent: "detection_action.alert_template",
                field: "impacted_assets",
                replacement: "entity_mappings",
            };
            migration.collection(&items, raw, &mut template.entity_mappings, field);
        }
    }
    let present = migration.moved(present);
    Migrated { rule, present, notes: migration.notes }
}

struct Migration<'o> {
    original: &'o DetectionRule,
    max_depth: usize,
    notes: Vec<MigrationNote>,
    /// Update-mask path of the retired shape -> its path in the current shape, or `None` when
    /// it is left out.
    moves: BTreeMap<String, Option<String>>,
}

impl Migration<'_> {
    /// Leaves out the field at `path` (a proto path), with a note quoting its original JSON.
    /// Absent or null, there is nothing to note: the path is only dropped.
    fn leave_out(&mut self, path: &str, detail: impl Into<String>) {
        if let Some(original) = self.original(path) {
            self.notes.push(MigrationNote { pointer: pointer_of(path), detail: detail.into(), original });
        }
        self.moves.insert(path.to_owned(), None);
    }

    /// The input's JSON of the field at `path`: its value, or its raw additional_data entry;
    /// `None` when it is absent or null.
    fn original(&self, path: &str) -> Option<String> {
        let mut object: &dyn GraphView = self.original;
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let Shape::Known(info) = object.shape() else { return None };
            let index = info.properties.iter().position(|p| p.proto_name == segment)?;
            let value = object.value(index);
            if segments.peek().is_none() {
                if !value.is_set() {
                    return object.additional_data().get(info.properties[index].graph_name).cloned();
                }
                return value_to_graph(value, self.max_depth).ok();
            }
            let Value::Object(Some(next)) = value else { return None };
            object = next;
        }
        None
    }

    fn moved_to(&mut self, from: &str, to: &str) {
        self.moves.insert(from.to_owned(), Some(to.to_owned()));
    }

    /// `isEnabled` -> `status`.
    fn status(&mut self, rule: &mut DetectionRule) {
        let Some(enabled) = rule.is_enabled.take() else {
            self.moves.insert("is_enabled".into(), None);
            return;
        };
        let status = if enabled { DetectionRuleStatus::Enabled } else { DetectionRuleStatus::Disabled };
        if rule.status == 0 {
            rule.status = status.into();
            self.moved_to("is_enabled", "status");
        } else if rule.status != i32::from(status) {
            self.leave_out("is_enabled", "contradicts status, which the rule also sets and which is kept");
        } else {
            self.moves.insert("is_enabled".into(), None);
        }
    }

    /// `period` ("1H", "3H", "12H", "24H") -> `frequency`.
    fn schedule(&mut self, rule: &mut DetectionRule) {
        let Some(schedule) = &mut rule.schedule else {
            return;
        };
        schedule.next_run_date_time = None;
        self.leave_out("schedule.next_run_date_time", "read-only and retired: Graph computes the next run");
        let period = std::mem::take(&mut schedule.period);
        if period.is_empty() {
            self.moves.insert("schedule.period".into(), None);
            return;
        }
        let hours = period.strip_suffix('H').and_then(|h| h.parse::<i64>().ok()).filter(|h| *h > 0);
        let Some(hours) = hours else {
            let detail = if period == "0" {
                "\"0\" is a continuous (near-real-time) rule, which has no frequency equivalent"
            } else {
                "not a period of whole hours"
            };
            self.leave_out("schedule.period", detail);
            return;
        };
        let frequency = Duration { seconds: hours * 3600, nanos: 0 };
        match &schedule.frequency {
            None => {
                schedule.frequency = Some(frequency);
                self.moved_to("schedule.period", "schedule.frequency");
            }
            Some(set) if *set == frequency => {
                self.moves.insert("schedule.period".into(), None);
            }
            Some(_) => {
                self.leave_out("schedule.period", "contradicts frequency, which the rule also sets and which is kept")
            }
        }
    }

    /// `scopeType: deviceGroup` + `scopeNames` -> `deviceGroups`.
    fn scope(&mut self, scope: Option<&mut OrganizationalScope>) {
        let Some(scope) = scope else {
            return;
        };
        let device_groups =
            matches!(ScopeType::try_from(scope.scope_type), Ok(ScopeType::Unspecified | ScopeType::DeviceGroup))
                && !scope.additional_data.contains_key("scopeType");
        if !device_groups {
            self.leave_out("detection_action.organizational_scope.scope_type", "names no device groups");
            self.leave_out("detection_action.organizational_scope.scope_names", "its scopeType names no device groups");
            scope.additional_data.remove("scopeType");
        } else {
            let names = std::mem::take(&mut scope.scope_names);
            self.moves.insert("detection_action.organizational_scope.scope_type".into(), None);
            if !names.is_empty() {
                scope
                    .device_groups
                    .extend(names.into_iter().filter(|n| !scope.device_groups.contains(n)).collect::<Vec<_>>());
                self.moved_to(
                    "detection_action.organizational_scope.scope_names",
                    "detection_action.organizational_scope.device_groups",
                );
            }
        }
        scope.scope_type = 0;
        scope.scope_names.clear();
    }

    /// Members retired without an equivalent: read-only run state, and the MITRE fields that
    /// `tactics` replaces (a tactic cannot be told from a category or a technique id).
    fn retired(&mut self, rule: &mut DetectionRule) {
        const READ_ONLY: &str = "read-only and retired";
        rule.detector_id.clear();
        self.leave_out("detector_id", READ_ONLY);
        rule.last_run_details = None;
        self.leave_out("last_run_details", READ_ONLY);
        if let Some(query) = &mut rule.query_condition {
            query.last_modified_date_time = None;
        }
        self.leave_out("query_condition.last_modified_date_time", READ_ONLY);
        if let Some(template) = rule.detection_action.as_mut().and_then(|a| a.alert_template.as_mut()) {
            template.category.clear();
            template.mitre_techniques.clear();
        }
        self.leave_out(
            "detection_action.alert_template.category",
            "retired for tactics; a tactic cannot be told from a category without a guess",
        );
        self.leave_out(
            "detection_action.alert_template.mitre_techniques",
            "retired for tactics; the tactic of a technique cannot be told without a guess",
        );
    }

    /// Moves the items of a retired collection field to the collections of `replacement` their
    /// types name; `raw` is the field's value if it was kept raw (an empty collection).
    fn collection<T: GraphObject, R: GraphObject + Default>(
        &mut self,
        items: &[T],
        raw: Option<String>,
        replacement: &mut Option<R>,
        field: Retired,
    ) {
        let (from, to) = (field.from(), field.to());
        if let Some(raw) = raw {
            if raw.trim() == "[]" {
                replacement.get_or_insert_with(R::default);
                self.moved_to(&from, &to);
            } else {
                let detail = "a value this build cannot read as items";
                self.notes.push(MigrationNote { pointer: pointer_of(&from), detail: detail.into(), original: raw });
                self.moves.insert(from, None);
            }
            return;
        }
        if items.is_empty() {
            self.moved_to(&from, &to); // absent stays absent; null (clear) stays null
            return;
        }
        let was_set = replacement.is_some();
        let target = replacement.get_or_insert_with(R::default);
        let mut migrated = 0;
        for (index, item) in items.iter().enumerate() {
            match move_item(item, target) {
                Ok(()) => migrated += 1,
                Err(detail) => {
                    let original = object_to_graph(item, self.max_depth).unwrap_or_default();
                    let pointer = format!("{}/{index}", pointer_of(&from));
                    self.notes.push(MigrationNote { pointer, detail, original });
                }
            }
        }
        if migrated > 0 {
            self.moved_to(&from, &to);
        } else {
            if !was_set {
                *replacement = None;
            }
            self.moves.insert(from, None);
        }
    }

    /// The input's update-mask paths, moved; paths of fields left out are dropped.
    fn moved(&self, present: Vec<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(present.len());
        for path in present {
            let moved = self.moves.iter().find(|(from, _)| path == **from || path.starts_with(&format!("{from}.")));
            let path = match moved {
                None => Some(path),
                Some((_, to)) => to.clone(),
            };
            if let Some(path) = path
                && !out.contains(&path)
            {
                out.push(path);
            }
        }
        out
    }
}

/// The JSON pointer of a proto path's Graph property (`detection_action.alert_template.category`
/// -> `/detectionAction/alertTemplate/category`), through the schema.
fn pointer_of(path: &str) -> String {
    let mut pointer = String::new();
    let mut info: Option<&'static TypeInfo> = Some(&DetectionRule::INFO);
    for segment in path.split('.') {
        let property = info.and_then(|i| i.properties.iter().find(|p| p.proto_name == segment));
        pointer.push('/');
        push_pointer_token(&mut pointer, property.map_or(segment, |p| p.graph_name));
        info = property.and_then(|p| p.object());
    }
    pointer
}

/// A retired collection field and the field replacing it, as proto paths.
struct Retired {
    parent: &'static str,
    field: &'static str,
    replacement: &'static str,
}

impl Retired {
    fn from(&self) -> String {
        format!("{}.{}", self.parent, self.field)
    }

    fn to(&self) -> String {
        format!("{}.{}", self.parent, self.replacement)
    }
}

/// Moves one item of a retired type (a response action, an impacted asset) into the collection
/// of `target` its type names, one new item per combination of its identifier columns.
fn move_item(item: &dyn GraphObject, target: &mut dyn GraphObject) -> Result<(), String> {
    let info = match item.shape() {
        Shape::Known(info) => info,
        Shape::Unknown(name) => {
            return Err(format!("type {name} is unknown to this build: its equivalent cannot be known"));
        }
        Shape::Unset => return Err("no type is set".into()),
    };
    if info.migrates_to.is_empty() {
        return Err(format!("{} has no equivalent in the current shape", info.graph_name));
    }
    if !item.additional_data().is_empty() {
        let keys: Vec<&str> = item.additional_data().keys().map(String::as_str).collect();
        return Err(format!(
            "holds data this build does not model ({}): its equivalent cannot be known",
            keys.join(", ")
        ));
    }
    // The identifier's members give the columns, grouped by the property naming them; the other
    // set properties (isolationType, deviceGroupNames) are carried by name.
    let mut groups: Vec<Vec<Column>> = Vec::new();
    let mut carried = Vec::new();
    for (index, property) in info.properties.iter().enumerate() {
        let value = item.value(index);
        let members: Vec<&Member> = match value {
            _ if !value.is_set() => continue,
            Value::Flags(schema, numbers) if has_columns(schema) => {
                numbers.iter().filter_map(|n| member(schema, *n)).collect()
            }
            Value::Enum(schema, number) if has_columns(schema) => member(schema, number).into_iter().collect(),
            _ => {
                carried.push(index);
                continue;
            }
        };
        for member in members {
            let column = member.column.ok_or_else(|| {
                format!(
                    "{} member {} has no hunting column in the current shape",
                    property.graph_name, member.graph_name
                )
            })?;
            match groups.iter_mut().find(|g| g[0].property == column.property) {
                Some(group) => group.push(column),
                None => groups.push(vec![column]),
            }
        }
    }
    let Shape::Known(target_info) = target.shape() else { unreachable!("a replacement has one type") };
    let index = target_info.find(info.migrates_to).ok_or_else(|| {
        format!("{} names {}, which {} does not have", info.graph_name, info.migrates_to, target_info.graph_name)
    })?;
    let Slot::Objects(list) = target.slot(index) else {
        return Err(format!("{}.{} is not a collection", target_info.graph_name, info.migrates_to));
    };
    let combinations: usize = groups.iter().map(Vec::len).product();
    for combination in 0..combinations {
        let new = list.push();
        let filled = fill(new, item, info, &groups, combination, &carried);
        if let Err(detail) = filled {
            for _ in 0..=combination {
                list.pop();
            }
            return Err(detail);
        }
    }
    Ok(())
}

/// Sets the columns of `combination` (an index into the product of `groups`) and the carried
/// properties of `item` on `new`, then checks that every required property of `new` is set.
fn fill(
    new: &mut dyn GraphObject,
    item: &dyn GraphObject,
    info: &TypeInfo,
    groups: &[Vec<Column>],
    mut combination: usize,
    carried: &[usize],
) -> Result<(), String> {
    let Shape::Known(new_info) = new.shape() else { unreachable!("a collection item has one type") };
    for group in groups {
        let column = group[combination % group.len()];
        combination /= group.len();
        match new_info.find(column.property).map(|i| new.slot(i)) {
            Some(Slot::String(field)) => *field = column.hunting_column.to_owned(),
            _ => return Err(format!("{} has no column property {}", new_info.graph_name, column.property)),
        }
    }
    for &index in carried {
        let name = info.properties[index].graph_name;
        let copied = new_info.find(name).is_some_and(|i| copy(item.value(index), new.slot(i)));
        if !copied {
            return Err(format!("{} of {} has no equivalent in {}", name, info.graph_name, new_info.graph_name));
        }
    }
    let missing = new_info.properties.iter().enumerate().find(|(i, p)| p.required && !new.value(*i).is_set());
    match missing {
        Some((_, property)) => Err(format!(
            "{} needs {}, which no member of the identifier names",
            new_info.graph_name, property.graph_name
        )),
        None => Ok(()),
    }
}

fn has_columns(schema: &EnumSchema) -> bool {
    schema.members.iter().any(|m| m.column.is_some())
}

fn member(schema: &'static EnumSchema, number: i32) -> Option<&'static Member> {
    schema.index_of_number(number).map(|i| &schema.members[i])
}

/// Copies a value into a slot of the same kind; false if the kinds differ.
fn copy(value: Value<'_>, slot: Slot<'_>) -> bool {
    match (value, slot) {
        (Value::Enum(from, number), Slot::Enum(to, field)) if std::ptr::eq(from, to) => *field = number,
        (Value::Flags(from, numbers), Slot::Flags(to, field)) if std::ptr::eq(from, to) => *field = numbers.to_vec(),
        (Value::Strings(strings), Slot::Strings(field)) => *field = strings.to_vec(),
        (Value::String(text), Slot::String(field)) => *field = text.to_owned(),
        _ => return false,
    }
    true
}
