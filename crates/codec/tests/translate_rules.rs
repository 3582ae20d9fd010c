//! Whole detection rules as the rule RPCs define them (`translate`): both Graph shapes,
//! collections, PATCH bodies with an update mask, unknown data at every level, every violation
//! located. The socket tests check that the service answers exactly this
//! (tests/integration/rules.rs).

use graphbridge_codec::{
    pb::{
        DetectionRule, DetectionRuleStatus, RuleFromGraphRequest, RuleFromGraphResponse, RuleToGraphRequest,
        UnknownDataKind, UnknownDataPolicy, impacted_asset,
    },
    translate::{self, Limits, TranslateError},
};
use graphbridge_testkit::{
    fixtures::{minimal_rule, rule_fixture as fixture},
    json::parse_json as parse,
    refusals::violations,
};
use prost_types::{Duration, FieldMask, Timestamp};
use serde_json::json;

const LIMITS: Limits = Limits::UNBOUNDED;

fn read(json: &str) -> RuleFromGraphResponse {
    let request = RuleFromGraphRequest { json: json.into(), ..Default::default() };
    translate::rule_from_graph(&LIMITS, &request).expect("reads")
}

fn write(rule: DetectionRule, mask: Option<FieldMask>) -> Result<String, TranslateError> {
    let request = RuleToGraphRequest { rule: Some(rule), update_mask: mask, ..Default::default() };
    translate::rule_to_graph(&LIMITS, &request).map(|r| r.json)
}

/// Every fixture (create, get and update bodies of both shapes) reads without a violation and
/// is written back with the same properties and values, nulls included, by passing the mask
/// RuleFromGraph returned.
#[test]
fn every_fixture_survives_rule_from_graph_then_rule_to_graph() {
    for name in ["old-create", "old-get", "old-update", "new-create", "new-get", "new-update"] {
        let json = fixture(name);
        let read = read(&json);
        assert_eq!(read.rules.len(), 1, "{name}");
        assert!(!read.collection, "{name}");
        let unexpected: Vec<_> = read
            .unknown_data
            .iter()
            .filter(|e| !matches!(e.kind(), UnknownDataKind::Null | UnknownDataKind::RawValue))
            .collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:?}");
        let rule = read.rules.into_iter().next().unwrap();
        let written = write(rule, read.update_mask).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(parse(&written), parse(&json), "{name}");
    }
}

/// A create body needs no mask: every set field is written, and required ones are all there.
#[test]
fn create_bodies_are_written_whole_without_a_mask() {
    for name in ["old-create", "new-create"] {
        let json = fixture(name);
        let rule = read(&json).rules.remove(0);
        let written = write(rule, None).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(parse(&written), parse(&json), "{name}");
    }
}

#[test]
fn both_shapes_are_typed() {
    let old = read(&fixture("old-get")).rules.remove(0);
    assert_eq!(old.is_enabled, Some(true));
    let action = old.detection_action.as_ref().unwrap();
    assert_eq!(action.response_actions.len(), 16, "every seed type once");
    assert!(action.response_actions.iter().all(|a| a.action.is_some() && a.additional_data.is_empty()));
    let assets = &action.alert_template.as_ref().unwrap().impacted_assets;
    assert!(assets.iter().all(|a| !matches!(a.asset, Some(impacted_asset::Asset::Unknown(_)) | None)));
    assert_eq!(old.schedule.as_ref().unwrap().period, "24H");
    assert_eq!(old.created_date_time.as_ref().unwrap().nanos % 100, 0);
    assert_eq!(old.additional_data.keys().collect::<Vec<_>>(), ["@odata.context", "@odata.type"]);

    let new = read(&fixture("new-get")).rules.remove(0);
    assert_ne!(new.status, 0);
    assert_eq!(new.schedule.as_ref().unwrap().frequency, Some(Duration { seconds: 86_400, nanos: 0 }));
    let template = new.detection_action.as_ref().unwrap().alert_template.as_ref().unwrap();
    let mappings = template.entity_mappings.as_ref().unwrap();
    for (name, count) in
        [("hosts", mappings.hosts.len()), ("dns", mappings.dns.len()), ("oAuth", mappings.o_auth_applications.len())]
    {
        assert!(count > 0, "{name}");
    }
    assert!(!template.custom_details.as_ref().unwrap().additional_data.is_empty(), "an open type keeps its keys");
    let automated = new.detection_action.as_ref().unwrap().automated_actions.as_ref().unwrap();
    assert!(!automated.isolate_devices.is_empty() && automated.isolate_devices[0].isolation_type != 0);
}

#[test]
fn a_collection_gives_its_rules_and_links() {
    let json = fixture("list");
    let listed = read(&json);
    let envelope = parse(&json);
    assert!(listed.collection);
    assert_eq!(listed.rules.len(), envelope["value"].as_array().unwrap().len());
    assert_eq!(listed.odata_context, envelope["@odata.context"].as_str().unwrap());
    assert_eq!(listed.next_link, envelope["@odata.nextLink"].as_str().unwrap());
    assert!(listed.update_mask.is_none(), "a mask is for one rule");
    // Pointers locate each rule's data within the envelope.
    assert!(listed.unknown_data.iter().all(|e| e.pointer.starts_with("/value/")), "{:?}", listed.unknown_data);

    let empty = read(
        r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#security/rules/detectionRules","@odata.count":0,"value":[]}"#,
    );
    assert!(empty.collection && empty.rules.is_empty() && empty.next_link.is_empty());
    assert_eq!(empty.collection_data.get("@odata.count").map(String::as_str), Some("0"));
}

#[test]
fn a_rule_is_written_with_graphs_names_and_forms() {
    let mut rule = minimal_rule();
    rule.id = "encoded-powershell".into();
    rule.status = DetectionRuleStatus::Enabled.into();
    rule.is_enabled = Some(false);
    rule.created_date_time = Some(Timestamp { seconds: 1_687_685_848, nanos: 614_900_500 });
    let written = write(rule, None).unwrap();
    assert_eq!(
        parse(&written),
        json!({
            "id": "encoded-powershell",
            "displayName": "Encoded PowerShell",
            "status": "enabled",
            "isEnabled": false,
            "queryCondition": {"queryText": "DeviceProcessEvents | take 1"},
            "schedule": {"frequency": "PT1H"},
            "detectionAction": {"alertTemplate": {
                "title": "Encoded PowerShell",
                "description": "A process ran encoded PowerShell.",
                "severity": "medium"
            }},
            "createdDateTime": "2023-06-25T09:37:28.6149005Z"
        })
    );
}

#[test]
fn every_missing_required_field_is_named_by_its_proto_path() {
    let mut rule = minimal_rule();
    rule.display_name.clear();
    rule.query_condition.as_mut().unwrap().query_text.clear();
    let template = rule.detection_action.as_mut().unwrap().alert_template.as_mut().unwrap();
    template.severity = 0;
    template.tactics.push(Default::default());
    rule.created_date_time = Some(Timestamp { seconds: 0, nanos: 150 });
    let error = write(rule, None).unwrap_err();
    assert!(matches!(error, TranslateError::Codec(_)));
    let fields: Vec<String> = violations(&error).into_iter().map(|(field, _)| field).collect();
    assert_eq!(
        fields,
        [
            "rule.display_name",
            "rule.query_condition.query_text",
            "rule.detection_action.alert_template.severity",
            "rule.detection_action.alert_template.tactics[0].tactic",
            "rule.created_date_time",
        ]
    );
}

/// The three states of a PATCH: a field outside the mask is absent, a masked unset field is
/// null, a masked set field is its value; a mask reaches into nested objects.
#[test]
fn an_update_mask_writes_exactly_a_patch_body() {
    let mut rule = minimal_rule();
    rule.status = DetectionRuleStatus::Disabled.into();
    let paths =
        ["status", "description", "schedule.frequency", "detection_action.organizational_scope", "schedule.period"];
    let mask = FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() };
    let written = write(rule.clone(), Some(mask)).unwrap();
    assert_eq!(
        parse(&written),
        json!({
            "status": "disabled",
            "description": null,
            "schedule": {"frequency": "PT1H", "period": null},
            "detectionAction": {"organizationalScope": null}
        })
    );

    // Into an unset object: nulls all the way down.
    rule.schedule = None;
    let mask = FieldMask { paths: vec!["schedule.next_run_date_time".into()] };
    let written = write(rule.clone(), Some(mask)).unwrap();
    assert_eq!(parse(&written), json!({"schedule": {"nextRunDateTime": null}}));

    let bad = FieldMask {
        paths: vec![
            "display_name".into(),
            "schedule.nope".into(),
            "detection_action.response_actions.identifier".into(),
        ],
    };
    rule.display_name.clear();
    let error = write(rule, Some(bad)).unwrap_err();
    assert!(matches!(error, TranslateError::Codec(_)));
    let fields: Vec<String> = violations(&error).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields, ["update_mask.paths[1]", "update_mask.paths[2]"]);
}

#[test]
fn a_required_field_cannot_be_cleared() {
    let mask = FieldMask { paths: vec!["display_name".into(), "detection_action.alert_template.title".into()] };
    let error = write(DetectionRule::default(), Some(mask)).unwrap_err();
    let found = violations(&error);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "rule.display_name");
    assert!(found[0].1.contains("cannot be cleared"), "{}", found[0].1);
    assert_eq!(found[1].0, "rule.detection_action.alert_template.title");
}

/// Unknown data is kept at every level, each piece reported with its pointer, and written back.
#[test]
fn unknown_data_is_kept_at_every_level() {
    let json = r##"{
        "displayName": "x", "newTopLevel": {"a": [1, 2.50]},
        "queryCondition": {"queryText": "q", "queryLanguage": "kql"},
        "schedule": {"frequency": "P1M", "lookback": "PT2H"},
        "status": "paused",
        "createdDateTime": "2023-06-25T11:37:28+02:00",
        "detectionAction": {
            "alertTemplate": {
                "title": "t", "description": "d", "severity": "critical",
                "entityMappings": {"hosts": [{"deviceIdColumn": "DeviceId", "newColumn": "X"}], "printers": []},
                "impactedAssets": [{"@odata.type": "#microsoft.graph.security.impactedPrinterAsset", "identifier": "printerId"}],
                "customDetails": {"Process": "ProcessCommandLine", "Count": 12345678901234567890}
            },
            "automatedActions": {"isolateDevices": [{"deviceIdColumn": "DeviceId", "isolationType": "full", "reason": "r"}]}
        }
    }"##;
    let read = read(json);
    let mut reported: Vec<(String, UnknownDataKind)> =
        read.unknown_data.iter().map(|e| (e.pointer.clone(), e.kind())).collect();
    reported.sort();
    use UnknownDataKind::{EnumMember, Property, RawValue, Type};
    let mut expected: Vec<(String, UnknownDataKind)> = [
        ("/createdDateTime", RawValue),
        ("/detectionAction/alertTemplate/entityMappings/hosts/0/newColumn", Property),
        ("/detectionAction/alertTemplate/entityMappings/printers", Property),
        ("/detectionAction/alertTemplate/impactedAssets/0/@odata.type", Type),
        ("/detectionAction/alertTemplate/severity", EnumMember),
        ("/detectionAction/automatedActions/isolateDevices/0/reason", Property),
        ("/newTopLevel", Property),
        ("/queryCondition/queryLanguage", Property),
        ("/schedule/frequency", RawValue),
        ("/status", EnumMember),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_owned(), k))
    .collect();
    expected.sort();
    assert_eq!(reported, expected);
    let rule = read.rules.into_iter().next().unwrap();
    assert_eq!(rule.schedule.as_ref().unwrap().lookback, Some(Duration { seconds: 7200, nanos: 0 }));
    let written = write(rule.clone(), read.update_mask.clone()).unwrap();
    assert_eq!(parse(&written), parse(json));

    // REJECT names every piece; the open type's keys are not unknown.
    let request = RuleFromGraphRequest { json: json.into(), unknown_data_policy: UnknownDataPolicy::Reject.into() };
    let error = translate::rule_from_graph(&LIMITS, &request).unwrap_err();
    let fields: Vec<String> = violations(&error).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields.len(), 8, "{fields:?}");
    assert!(fields.iter().all(|f| !f.contains("customDetails")), "{fields:?}");
}

#[test]
fn bad_rule_json_is_located() {
    let cases = [
        ("[]", "json", "expected a detectionRule object or an OData collection of them, found an array"),
        (r#"{"isEnabled": "yes"}"#, "json/isEnabled", "isEnabled must be a boolean, found a string"),
        (r#"{"schedule": []}"#, "json/schedule", "schedule must be an object, found an array"),
        (
            r#"{"detectionAction": {"responseActions": [{"identifier": "deviceId"}]}}"#,
            "json/detectionAction/responseActions/0",
            "missing \"@odata.type\": the value's type cannot be known",
        ),
        (
            r#"{"detectionAction": {"alertTemplate": {"tactics": [{"tactic": "x"}, 3]}}}"#,
            "json/detectionAction/alertTemplate/tactics/1",
            "item 1 of tactics must be an object, found a number",
        ),
        (r#"{"value": [], "@odata.nextLink": 1}"#, "json/@odata.nextLink", "must be a string, found a number"),
    ];
    for (json, field, description) in cases {
        let request = RuleFromGraphRequest { json: json.into(), ..Default::default() };
        let error = translate::rule_from_graph(&LIMITS, &request).unwrap_err();
        assert!(matches!(error, TranslateError::Codec(_)), "{json}");
        assert_eq!(violations(&error), [(field.to_owned(), description.to_owned())], "{json}");
    }
    let error = translate::rule_to_graph(&LIMITS, &RuleToGraphRequest::default()).unwrap_err();
    assert_eq!(violations(&error)[0].0, "rule");
    // A rule with a property named "value" (beside properties) is a rule, not a collection.
    let read = read(r#"{"displayName": "x", "value": []}"#);
    assert!(!read.collection && read.rules[0].additional_data.contains_key("value"));
}

/// Under DROP, what was dropped is not in the returned mask: written back, it is left alone
/// rather than cleared.
#[test]
fn dropped_data_is_not_in_the_update_mask() {
    let json = r##"{"status":"paused","description":"d","detectionAction":{"responseActions":[{"@odata.type":"#microsoft.graph.security.newResponseAction"}]}}"##;
    let request = RuleFromGraphRequest { json: json.into(), unknown_data_policy: UnknownDataPolicy::Drop.into() };
    let read = translate::rule_from_graph(&LIMITS, &request).unwrap();
    // detectionAction was there, emptied by the drop: written back as {}, which changes nothing.
    assert_eq!(read.update_mask.as_ref().unwrap().paths, ["description", "detection_action"]);
    assert_eq!(read.unknown_data.iter().filter(|e| e.dropped).count(), 2);
    let written = write(read.rules[0].clone(), read.update_mask).unwrap();
    assert_eq!(parse(&written), json!({"description": "d", "detectionAction": {}}));
}
