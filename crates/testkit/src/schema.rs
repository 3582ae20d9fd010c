//! Walks of the schema tables. What a property holds comes from `PropertyInfo::kind`; a complex
//! value is reached through the `GraphObject` API (`slot`, `fill`, `push`, `select`) on a
//! scratch default, so that a type added to proto/ is walked without new code.

use std::sync::OnceLock;

use graphbridge_codec::{
    pb::{DetectionRule, ResponseAction},
    schema::{EnumSchema, GraphObject, Hierarchy, Member, PropertyKind, Shape, Slot, TypeInfo},
};

/// A complex value: of one type, or polymorphic (each known type by its qualified name, sorted).
#[derive(Debug)]
pub enum Node {
    Single(TypeNode),
    Polymorphic { hierarchy: &'static Hierarchy, known: Vec<(&'static str, TypeNode)> },
}

/// A Graph type and what each of its properties holds (in `info.properties` order).
#[derive(Debug)]
pub struct TypeNode {
    pub info: &'static TypeInfo,
    pub holds: Vec<Holds>,
}

/// What one property holds, as its `PropertyInfo::kind` says; a complex value walked in turn.
#[derive(Debug)]
pub enum Holds {
    Flags(&'static EnumSchema),
    Enum(&'static EnumSchema),
    Strings,
    String,
    Bool,
    Timestamp,
    Duration,
    Object(Box<Node>),
    Objects(Box<Node>),
}

impl Node {
    /// The type (or types) of `object`, walked through every complex property; the schema has no
    /// cycles, so the walk ends.
    pub fn walk(object: &mut dyn GraphObject) -> Node {
        let Some(hierarchy) = object.hierarchy() else {
            return Node::Single(TypeNode::walk(object));
        };
        let known = hierarchy
            .known
            .iter()
            .map(|(name, ..)| {
                assert!(object.select(name), "{name} is known");
                (*name, TypeNode::walk(object))
            })
            .collect();
        Node::Polymorphic { hierarchy, known }
    }

    /// Graph's name of the value's type: its type's, or a polymorphic value's abstract base,
    /// e.g. `responseAction`.
    pub fn graph_name(&self) -> String {
        match self {
            Node::Single(node) => node.info.graph_name.to_owned(),
            Node::Polymorphic { hierarchy, .. } => lower_camel(hierarchy.message),
        }
    }
}

impl TypeNode {
    fn walk(object: &mut dyn GraphObject) -> TypeNode {
        let Shape::Known(info) = object.shape() else { panic!("walking a value of no known type") };
        let holds = (0..info.properties.len())
            .map(|index| match info.properties[index].kind {
                PropertyKind::Flags(schema) => Holds::Flags(schema),
                PropertyKind::Enum(schema) => Holds::Enum(schema),
                PropertyKind::Strings => Holds::Strings,
                PropertyKind::String => Holds::String,
                PropertyKind::Bool => Holds::Bool,
                PropertyKind::Timestamp => Holds::Timestamp,
                PropertyKind::Duration => Holds::Duration,
                PropertyKind::Object | PropertyKind::Objects => match object.slot(index) {
                    Slot::Object(slot) => Holds::Object(Box::new(Node::walk(slot.fill()))),
                    Slot::Objects(list) => Holds::Objects(Box::new(Node::walk(list.push()))),
                    _ => panic!(
                        "{}.{}: a complex kind without a complex slot",
                        info.graph_name, info.properties[index].graph_name
                    ),
                },
            })
            .collect();
        TypeNode { info, holds }
    }
}

impl Holds {
    /// The property's type as Graph's metadata writes it (`Edm.String`, `Collection(mitreTactic)`),
    /// with the kind of an enum: `flags fileEntityIdentifier`, `enum isolationType`.
    pub fn graph_type(&self) -> String {
        match self {
            Holds::Flags(schema) => format!("flags {}", schema.graph_name),
            Holds::Enum(schema) => format!("enum {}", schema.graph_name),
            Holds::Strings => "Collection(Edm.String)".to_owned(),
            Holds::String => "Edm.String".to_owned(),
            Holds::Bool => "Edm.Boolean".to_owned(),
            Holds::Timestamp => "Edm.DateTimeOffset".to_owned(),
            Holds::Duration => "Edm.Duration".to_owned(),
            Holds::Object(node) => node.graph_name(),
            Holds::Objects(node) => format!("Collection({})", node.graph_name()),
        }
    }

    /// True for a complex value or a collection of them.
    pub fn is_complex(&self) -> bool {
        matches!(self, Holds::Object(_) | Holds::Objects(_))
    }
}

fn lower_camel(pascal: &str) -> String {
    let mut chars = pascal.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// DetectionRule and every type it reaches, walked once.
pub fn rule_model() -> &'static Node {
    static RULE: OnceLock<Node> = OnceLock::new();
    RULE.get_or_init(|| Node::walk(&mut DetectionRule::default()))
}

/// The response actions: each known type by its qualified name, sorted as `Action::KNOWN_TYPES`.
pub fn response_actions() -> &'static [(&'static str, TypeNode)] {
    static ACTIONS: OnceLock<Node> = OnceLock::new();
    match ACTIONS.get_or_init(|| Node::walk(&mut ResponseAction::default())) {
        Node::Polymorphic { known, .. } => known,
        Node::Single(node) => panic!("ResponseAction is polymorphic, not {}", node.info.graph_name),
    }
}

/// The members Graph accepts in a request: all but its sentinel `unknownFutureValue`, in schema
/// order (a flags enum's bit order).
pub fn writable(schema: &'static EnumSchema) -> impl DoubleEndedIterator<Item = &'static Member> + Clone {
    schema.members.iter().filter(|m| !m.is_sentinel())
}

/// Graph's sentinel member, which every Graph enum has.
pub fn sentinel(schema: &'static EnumSchema) -> &'static Member {
    schema.members.iter().find(|m| m.is_sentinel()).unwrap_or_else(|| panic!("{} has no sentinel", schema.graph_name))
}

/// A step from an object to one it holds: property `index` (one complex value), or the first
/// item of collection property `index`, of the known type with this qualified name when the
/// collection is polymorphic.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Property(usize),
    Item(usize, Option<&'static str>),
}

/// A Graph type reached from DetectionRule, by its first path.
#[derive(Debug)]
pub struct Reached {
    pub node: &'static TypeNode,
    pub path: Vec<Step>,
    /// The JSON pointer of the object at `path` in a rule that holds it (a collection's first item).
    pub pointer: String,
}

/// Every Graph type reachable from DetectionRule, each once by its first path (depth first, in
/// property order).
pub fn reachable_from_rule() -> Vec<Reached> {
    fn visit(node: &'static TypeNode, path: Vec<Step>, pointer: String, reached: &mut Vec<Reached>) {
        if reached.iter().any(|r| r.node.info.graph_name == node.info.graph_name) {
            return;
        }
        reached.push(Reached { node, path: path.clone(), pointer: pointer.clone() });
        for (index, (property, holds)) in node.info.properties.iter().zip(&node.holds).enumerate() {
            let pointer = format!("{pointer}/{}", property.graph_name);
            let (value, pointer, item) = match holds {
                Holds::Object(value) => (value, pointer, false),
                Holds::Objects(items) => (items, format!("{pointer}/0"), true),
                _ => continue,
            };
            let step = |case| if item { Step::Item(index, case) } else { Step::Property(index) };
            match &**value {
                Node::Single(type_node) => {
                    let next = [&path[..], &[step(None)]].concat();
                    visit(type_node, next, pointer, reached);
                }
                Node::Polymorphic { known, .. } => {
                    assert!(item, "{pointer}: a polymorphic value outside a collection has no path");
                    for (qualified_name, type_node) in known {
                        let next = [&path[..], &[step(Some(qualified_name))]].concat();
                        visit(type_node, next, pointer.clone(), reached);
                    }
                }
            }
        }
    }
    let Node::Single(rule) = rule_model() else { panic!("DetectionRule is of one type") };
    let mut reached = Vec::new();
    visit(rule, Vec::new(), String::new(), &mut reached);
    reached
}
