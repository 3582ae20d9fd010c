//! Whole detection rules over a real socket: each rule call answers exactly what the codec's
//! translation of the same request answers (crates/codec/tests/translate_rules.rs tests what that
//! is: both Graph shapes, collections, PATCH bodies), refusals included; and the server's
//! --max-json-depth holds both ways.

use graphbridge::pb::{
    AlertTemplate, DetectionAction, DetectionRule, RuleFromGraphRequest, RuleToGraphRequest, UnknownDataPolicy,
};
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::fixtures::{minimal_rule, rule_fixtures};
use prost_types::FieldMask;
use tonic::Code;

use crate::support::server::{TestServer, assert_served_as_translated, violations};

/// Every fixture (create, get, update bodies of both shapes, a collection) read under every
/// policy, then written back with the mask read and without, compact and pretty; and requests the
/// codec refuses: bad JSON, no rule, a bad mask.
#[tokio::test]
async fn the_rule_calls_answer_what_the_codec_translates() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let limits = Limits::UNBOUNDED;
    let bad_json = [r#"[]"#, r#"{"isEnabled": "yes"}"#, r#"{"value": [], "@odata.nextLink": 1}"#];
    let documents = rule_fixtures().into_iter().map(|(_, json)| json).chain(bad_json.map(str::to_owned));
    for json in documents {
        for policy in [UnknownDataPolicy::Preserve, UnknownDataPolicy::Drop, UnknownDataPolicy::Reject] {
            let request = RuleFromGraphRequest { json: json.clone(), unknown_data_policy: policy.into() };
            let served = client.rule_from_graph(request.clone()).await.map(|r| r.into_inner());
            let translated = translate::rule_from_graph(&limits, &request);
            assert_served_as_translated(served, translated.clone(), &format!("RuleFromGraph {policy:?} of {json}"));
            let Ok(read) = translated else { continue };
            for (rule, mask, pretty) in
                read.rules.iter().flat_map(|rule| [(rule, read.update_mask.clone(), false), (rule, None, true)])
            {
                let request = RuleToGraphRequest {
                    rule: Some(rule.clone()),
                    update_mask: mask,
                    pretty,
                    unknown_data_policy: policy.into(),
                };
                let served = client.rule_to_graph(request.clone()).await.map(|r| r.into_inner());
                let what = format!("RuleToGraph {policy:?} of a rule of {json}");
                assert_served_as_translated(served, translate::rule_to_graph(&limits, &request), &what);
            }
        }
    }
    let bad_mask = FieldMask { paths: vec!["display_name".into(), "schedule.nope".into()] };
    let mut nameless = minimal_rule();
    nameless.display_name.clear();
    for request in [
        RuleToGraphRequest::default(),
        RuleToGraphRequest { rule: Some(nameless), update_mask: Some(bad_mask), ..Default::default() },
    ] {
        let served = client.rule_to_graph(request.clone()).await.map(|r| r.into_inner());
        assert_served_as_translated(served, translate::rule_to_graph(&limits, &request), &format!("{request:?}"));
    }
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
    let request = RuleToGraphRequest { rule: Some(rule), update_mask: Some(mask), ..Default::default() };
    let status = client.rule_to_graph(request).await.unwrap_err();
    assert_eq!(
        violations(&status),
        [(
            "rule.detection_action.alert_template.entity_mappings.hosts[0]".to_owned(),
            "nests deeper than the limit of 5 levels (--max-json-depth)".to_owned()
        )]
    );
    server.stop().await;
}
