//! Whole detection rules over a real socket: both Graph shapes, collections, PATCH bodies.

mod common;

use common::{TestServer, parse_json as parse, rule_fixture as fixture, violations};
use graphbridge::pb::{
    AlertSeverity, AlertTemplate, DetectionAction, DetectionRule, DetectionRuleStatus, QueryCondition,
    RuleFromGraphRequest, RuleFromGraphResponse, RuleSchedule, RuleToGraphRequest, UnknownDataKind, UnknownDataPolicy,
    impacted_asset,
};
use prost_types::{Duration, FieldMask, Timestamp};
use serde_json::json;
use tonic::Code;

type Client = graphbridge::pb::translator_client::TranslatorClient<tonic::transport::Channel>;

async fn read(client: &mut Client, json: &str) -> RuleFromGraphResponse {
    let request = RuleFromGraphRequest { json: json.into(), ..Default::default() };
    client.rule_from_graph(request).await.expect("reads").into_inner()
}

async fn write(client: &mut Client, rule: DetectionRule, mask: Option<FieldMask>) -> Result<String, tonic::Status> {
    let request = RuleToGraphRequest { rule: Some(rule), update_mask: mask, ..Default::default() };
    client.rule_to_graph(request).await.map(|r| r.into_inner().json)
}

/// Every fixture (create, get and update bodies of both shapes) reads without a violation and
/// is written back with the same properties and values, nulls included, by passing the mask
/// RuleFromGraph returned.
#[tokio::test]
async fn every_fixture_survives_rule_from_graph_then_rule_to_graph() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for name in ["old-create", "old-get", "old-update", "new-create", "new-get", "new-update"] {
        let json = fixture(name);
        let read = read(&mut client, &json).await;
        assert_eq!(read.rules.len(), 1, "{name}");
        assert!(!read.collection, "{name}");
        let unexpected: Vec<_> = read
            .unknown_data
            .iter()
            .filter(|e| !matches!(e.kind(), UnknownDataKind::Null | UnknownDataKind::RawValue))
            .collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:?}");
        let rule = read.rules.into_iter().next().unwrap();
        let written = write(&mut client, rule, read.update_mask).await.unwrap_or_else(|s| panic!("{name}: {s:?}"));
        assert_eq!(parse(&written), parse(&json), "{name}");
    }
    server.stop().await;
}

/// A create body needs no mask: every set field is written, and required ones are all there.
#[tokio::test]
async fn create_bodies_are_written_whole_without_a_mask() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for name in ["old-create", "new-create"] {
        let json = fixture(name);
        let rule = read(&mut client, &json).await.rules.remove(0);
        let written = write(&mut client, rule, None).await.unwrap_or_else(|s| panic!("{name}: {s:?}"));
        assert_eq!(parse(&written), parse(&json), "{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn both_shapes_are_typed() {
    let server = TestServer::start().await;
    let mut client = server.client().await;

    let old = read(&mut client, &fixture("old-get")).await.rules.remove(0);
    assert_eq!(old.is_enabled, Some(true));
    let action = old.detection_action.as_ref().unwrap();
    assert_eq!(action.response_actions.len(), 16, "every seed type once");
    assert!(action.response_actions.iter().all(|a| a.action.is_some() && a.additional_data.is_empty()));
    let assets = &action.alert_template.as_ref().unwrap().impacted_assets;
    assert!(assets.iter().all(|a| !matches!(a.asset, Some(impacted_asset::Asset::Unknown(_)) | None)));
    assert_eq!(old.schedule.as_ref().unwrap().period, "24H");
    assert_eq!(old.created_date_time.as_ref().unwrap().nanos % 100, 0);
    assert_eq!(old.additional_data.keys().collect::<Vec<_>>(), ["@odata.context", "@odata.type"]);

    let new = read(&mut client, &fixture("new-get")).await.rules.remove(0);
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
    server.stop().await;
}

#[tokio::test]
async fn a_collection_gives_its_rules_and_links() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let json = fixture("list");
    let read = read(&mut client, &json).await;
    let envelope = parse(&json);
    assert!(read.collection);
    assert_eq!(read.rules.len(), envelope["value"].as_array().unwrap().len());
    assert_eq!(read.odata_context, envelope["@odata.context"].as_str().unwrap());
    assert_eq!(read.next_link, envelope["@odata.nextLink"].as_str().unwrap());
    assert!(read.update_mask.is_none(), "a mask is for one rule");
    // Pointers locate each rule's data within the envelope.
    assert!(read.unknown_data.iter().all(|e| e.pointer.starts_with("/value/")), "{:?}", read.unknown_data);

    let empty = read_empty_collection(&mut client).await;
    assert!(empty.collection && empty.rules.is_empty() && empty.next_link.is_empty());
    assert_eq!(empty.collection_data.get("@odata.count").map(String::as_str), Some("0"));
    server.stop().await;
}

async fn read_empty_collection(client: &mut Client) -> RuleFromGraphResponse {
    read(client, r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#security/rules/detectionRules","@odata.count":0,"value":[]}"#).await
}

fn minimal_rule() -> DetectionRule {
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

#[tokio::test]
async fn a_rule_is_written_with_graphs_names_and_forms() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut rule = minimal_rule();
    rule.id = "encoded-powershell".into();
    rule.status = DetectionRuleStatus::Enabled.into();
    rule.is_enabled = Some(false);
    rule.created_date_time = Some(Timestamp { seconds: 1_687_685_848, nanos: 614_900_500 });
    let written = write(&mut client, rule, None).await.unwrap();
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
    server.stop().await;
}

#[tokio::test]
async fn every_missing_required_field_is_named_by_its_proto_path() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut rule = minimal_rule();
    rule.display_name.clear();
    rule.query_condition.as_mut().unwrap().query_text.clear();
    let template = rule.detection_action.as_mut().unwrap().alert_template.as_mut().unwrap();
    template.severity = 0;
    template.tactics.push(Default::default());
    rule.created_date_time = Some(Timestamp { seconds: 0, nanos: 150 });
    let status = write(&mut client, rule, None).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations(&status).into_iter().map(|(field, _)| field).collect();
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
    server.stop().await;
}

/// The three states of a PATCH: a field outside the mask is absent, a masked unset field is
/// null, a masked set field is its value; a mask reaches into nested objects.
#[tokio::test]
async fn an_update_mask_writes_exactly_a_patch_body() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut rule = minimal_rule();
    rule.status = DetectionRuleStatus::Disabled.into();
    let paths =
        ["status", "description", "schedule.frequency", "detection_action.organizational_scope", "schedule.period"];
    let mask = FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() };
    let written = write(&mut client, rule.clone(), Some(mask)).await.unwrap();
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
    let written = write(&mut client, rule.clone(), Some(mask)).await.unwrap();
    assert_eq!(parse(&written), json!({"schedule": {"nextRunDateTime": null}}));

    let bad = FieldMask {
        paths: vec![
            "display_name".into(),
            "schedule.nope".into(),
            "detection_action.response_actions.identifier".into(),
        ],
    };
    rule.display_name.clear();
    let status = write(&mut client, rule, Some(bad)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations(&status).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields, ["update_mask.paths[1]", "update_mask.paths[2]"]);
    server.stop().await;
}

#[tokio::test]
async fn a_required_field_cannot_be_cleared() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mask = FieldMask { paths: vec!["display_name".into(), "detection_action.alert_template.title".into()] };
    let status = write(&mut client, DetectionRule::default(), Some(mask)).await.unwrap_err();
    let found = violations(&status);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "rule.display_name");
    assert!(found[0].1.contains("cannot be cleared"), "{}", found[0].1);
    assert_eq!(found[1].0, "rule.detection_action.alert_template.title");
    server.stop().await;
}

/// Unknown data is kept at every level, each piece reported with its pointer, and written back.
#[tokio::test]
async fn unknown_data_is_kept_at_every_level() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
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
    let read = read(&mut client, json).await;
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
    let written = write(&mut client, rule.clone(), read.update_mask.clone()).await.unwrap();
    assert_eq!(parse(&written), parse(json));

    // REJECT names every piece; the open type's keys are not unknown.
    let request = RuleFromGraphRequest { json: json.into(), unknown_data_policy: UnknownDataPolicy::Reject.into() };
    let status = client.rule_from_graph(request).await.unwrap_err();
    let fields: Vec<String> = violations(&status).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields.len(), 8, "{fields:?}");
    assert!(fields.iter().all(|f| !f.contains("customDetails")), "{fields:?}");
    server.stop().await;
}

#[tokio::test]
async fn bad_rule_json_is_located() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
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
        let status = client.rule_from_graph(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{json}");
        assert_eq!(violations(&status), [(field.to_owned(), description.to_owned())], "{json}");
    }
    let status = client.rule_to_graph(RuleToGraphRequest::default()).await.unwrap_err();
    assert_eq!(violations(&status)[0].0, "rule");
    // A rule with a property named "value" (beside properties) is a rule, not a collection.
    let read = read(&mut client, r#"{"displayName": "x", "value": []}"#).await;
    assert!(!read.collection && read.rules[0].additional_data.contains_key("value"));
    server.stop().await;
}

/// RuleToGraph writes nothing that RuleFromGraph of the same server would refuse as too deep.
#[tokio::test]
async fn a_rule_nesting_deeper_than_the_limit_is_refused() {
    let server = TestServer::with_flags(&["--max-json-depth", "5"]).await;
    let mut client = server.client().await;
    let json = r#"{"detectionAction":{"alertTemplate":{"entityMappings":{"hosts":[{"deviceIdColumn":"DeviceId"}]}}}}"#;
    let status =
        client.rule_from_graph(RuleFromGraphRequest { json: json.into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut rule = DetectionRule::default();
    let hosts = vec![graphbridge::pb::HostEntityMapping { device_id_column: "DeviceId".into(), ..Default::default() }];
    rule.detection_action = Some(DetectionAction {
        alert_template: Some(AlertTemplate {
            entity_mappings: Some(graphbridge::pb::EntityMappingConfiguration { hosts, ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mask = FieldMask { paths: vec!["detection_action.alert_template.entity_mappings".into()] };
    let status = write(&mut client, rule, Some(mask)).await.unwrap_err();
    assert_eq!(
        violations(&status),
        [(
            "rule.detection_action.alert_template.entity_mappings.hosts[0]".to_owned(),
            "nests deeper than the limit of 5 levels (--max-json-depth)".to_owned()
        )]
    );
    server.stop().await;
}

/// Under DROP, what was dropped is not in the returned mask: written back, it is left alone
/// rather than cleared.
#[tokio::test]
async fn dropped_data_is_not_in_the_update_mask() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let json = r##"{"status":"paused","description":"d","detectionAction":{"responseActions":[{"@odata.type":"#microsoft.graph.security.newResponseAction"}]}}"##;
    let request = RuleFromGraphRequest { json: json.into(), unknown_data_policy: UnknownDataPolicy::Drop.into() };
    let read = client.rule_from_graph(request).await.unwrap().into_inner();
    // detectionAction was there, emptied by the drop: written back as {}, which changes nothing.
    assert_eq!(read.update_mask.as_ref().unwrap().paths, ["description", "detection_action"]);
    assert_eq!(read.unknown_data.iter().filter(|e| e.dropped).count(), 2);
    let written = write(&mut client, read.rules[0].clone(), read.update_mask).await.unwrap();
    assert_eq!(parse(&written), json!({"description": "d", "detectionAction": {}}));
    server.stop().await;
}
