//! The detection-rule fixtures of `tests/fixtures/rules/` (their README says what each is), and
//! the smallest rule ToGraph writes.

use std::{fs, path::PathBuf};

use graphbridge_codec::pb::{
    AlertSeverity, AlertTemplate, DetectionAction, DetectionRule, QueryCondition, RuleSchedule,
};
use prost_types::Duration;

fn rules_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/rules"))
}

/// The Graph JSON of one fixture by file stem: `old-get`, `new-create.migrated`, ...
pub fn rule_fixture(name: &str) -> String {
    let path = rules_dir().join(format!("{name}.json"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One fixture compacted, as Graph sends its responses (without indentation).
pub fn compact_rule_fixture(name: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&rule_fixture(name)).expect("a fixture is JSON");
    serde_json::to_string(&json).expect("JSON writes to a string")
}

/// Every fixture, by file stem, sorted.
pub fn rule_fixtures() -> Vec<(String, String)> {
    let dir = rules_dir();
    let mut fixtures: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
            let json = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (stem, json)
        })
        .collect();
    fixtures.sort();
    fixtures
}

/// A rule with only what ToGraph requires of a create body: display name, query, schedule and
/// alert template.
pub fn minimal_rule() -> DetectionRule {
    DetectionRule {
        display_name: "Encoded PowerShell".into(),
        query_condition: Some(QueryCondition {
            query_text: "DeviceProcessEvents | take 1".into(),
            ..Default::default()
        }),
        schedule: Some(RuleSchedule { frequency: Some(Duration { seconds: 3600, nanos: 0 }), ..Default::default() }),
        detection_action: Some(DetectionAction {
            alert_template: Some(AlertTemplate {
                title: "Encoded PowerShell".into(),
                description: "A process ran encoded PowerShell.".into(),
                severity: AlertSeverity::Medium.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
