//! The Graph facts of `tests/fixtures/graph-facts.json`, transcribed by hand from Graph's
//! metadata (an oracle independent of proto/), and the walked schema in the same form.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::schema::TypeNode;

/// A property as the facts describe it: Graph name, Graph type (see `Holds::graph_type`),
/// required by ToGraph.
pub type PropertyFacts = (String, String, bool);

/// A Graph type: its name, whether it is open, its properties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TypeFacts {
    pub graph_name: String,
    pub open: bool,
    pub properties: Vec<PropertyFacts>,
}

impl TypeFacts {
    /// What the schema tables say of a walked type, properties in schema order.
    pub fn of(node: &TypeNode) -> TypeFacts {
        let properties = node
            .info
            .properties
            .iter()
            .zip(&node.holds)
            .map(|(property, holds)| (property.graph_name.to_owned(), holds.graph_type(), property.required))
            .collect();
        TypeFacts { graph_name: node.info.graph_name.to_owned(), open: node.info.open, properties }
    }
}

/// Everything `graph-facts.json` holds.
#[derive(Debug)]
pub struct GraphFacts {
    /// The response actions, properties in schema order.
    pub response_actions: Vec<TypeFacts>,
    /// The other types a detection rule holds (its own, entity mappings, automated actions,
    /// impacted assets).
    pub rule_model: Vec<TypeFacts>,
    /// The known types of each polymorphic base other than `responseAction`.
    pub derived_types: BTreeMap<String, Vec<String>>,
    /// Each enum's members, in schema order.
    pub enums: Vec<(String, Vec<String>)>,
}

/// Reads `tests/fixtures/graph-facts.json`.
pub fn graph_facts() -> GraphFacts {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/graph-facts.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let facts: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let types = |key: &str| facts[key].as_array().unwrap_or_else(|| panic!("{key}: an array")).iter().map(type_facts);
    GraphFacts {
        response_actions: types("responseActions").collect(),
        rule_model: types("ruleModel").collect(),
        derived_types: facts["derivedTypes"]
            .as_object()
            .expect("derivedTypes: an object")
            .iter()
            .map(|(base, names)| (base.clone(), strings(names)))
            .collect(),
        enums: facts["enums"]
            .as_array()
            .expect("enums: an array")
            .iter()
            .map(|e| (string(&e["type"]), strings(&e["members"])))
            .collect(),
    }
}

fn type_facts(value: &Value) -> TypeFacts {
    let properties = value["properties"]
        .as_array()
        .unwrap_or_else(|| panic!("{value}: properties"))
        .iter()
        .map(|p| (string(&p["name"]), string(&p["type"]), p["required"].as_bool().expect("required: a boolean")))
        .collect();
    TypeFacts { graph_name: string(&value["type"]), open: value["open"].as_bool().unwrap_or(false), properties }
}

fn string(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("{value}: a string")).to_owned()
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap_or_else(|| panic!("{value}: an array")).iter().map(string).collect()
}
