//! MigrateRule as the Translator defines it (`translate`): a retired-shape rule becomes the same
//! rule in the current shape, and what has no exact equivalent is left out with a note, never
//! guessed. The socket tests check that the service answers exactly this
//! (tests/integration/migration.rs).

use graphbridge_codec::{
    pb::{MigrateRuleRequest, MigrateRuleResponse, RuleFromGraphRequest},
    translate::{self, Limits, TranslateError},
};
use graphbridge_testkit::{fixtures::rule_fixture as fixture, json::parse_json as parse, refusals::violations};
use serde_json::{Value as Json, json};

const LIMITS: Limits = Limits::UNBOUNDED;

fn migrate(json: &str) -> MigrateRuleResponse {
    let request = MigrateRuleRequest { json: json.into(), ..Default::default() };
    translate::migrate_rule(&LIMITS, &request).expect("migrates")
}

fn noted(response: &MigrateRuleResponse) -> Vec<&str> {
    response.not_migrated.iter().map(|n| n.pointer.as_str()).collect()
}

/// Every member of the retired shape, anywhere in a rule.
const RETIRED: &[&str] = &[
    "isEnabled",
    "period",
    "nextRunDateTime",
    "detectorId",
    "lastRunDetails",
    "responseActions",
    "impactedAssets",
    "category",
    "mitreTechniques",
    "scopeType",
    "scopeNames",
];

fn retired_members(json: &Json, at: &str, found: &mut Vec<String>) {
    match json {
        Json::Object(members) => {
            for (key, value) in members {
                let here = format!("{at}/{key}");
                if RETIRED.contains(&key.as_str()) {
                    found.push(here.clone());
                }
                retired_members(value, &here, found);
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                retired_members(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// The three retired-shape fixtures (create, get, update) migrate to their reviewed goldens,
/// hold no retired member, and read back as current-shape rules without a report.
#[test]
fn retired_fixtures_migrate_to_their_goldens() {
    let expected_notes: [(&str, &[&str]); 3] = [
        ("old-create", &["/detectionAction/alertTemplate/category", "/detectionAction/alertTemplate/mitreTechniques"]),
        (
            "old-get",
            &[
                "/schedule/nextRunDateTime",
                "/detectorId",
                "/lastRunDetails",
                "/detectionAction/alertTemplate/category",
                "/detectionAction/alertTemplate/mitreTechniques",
            ],
        ),
        ("old-update", &[]),
    ];
    for (name, notes) in expected_notes {
        let migrated = migrate(&fixture(name));
        assert_eq!(parse(&migrated.json), parse(&fixture(&format!("{name}.migrated"))), "{name}");
        assert_eq!(noted(&migrated), notes, "{name}");
        assert!(migrated.not_migrated.iter().all(|n| !n.original.is_empty() && !n.detail.is_empty()));
        let mut retired = Vec::new();
        retired_members(&parse(&migrated.json), "", &mut retired);
        assert!(retired.is_empty(), "{name}: {retired:?}");

        let request = RuleFromGraphRequest { json: migrated.json.clone(), ..Default::default() };
        let read = translate::rule_from_graph(&LIMITS, &request).unwrap();
        assert_eq!(read.rules.first(), migrated.rule.as_ref(), "{name}: the rule returned is the rule written");
    }
}

#[test]
fn each_identifier_member_becomes_its_hunting_column() {
    let rule = json!({"detectionAction": {"responseActions": [
        {"@odata.type": "#microsoft.graph.security.isolateDeviceResponseAction", "identifier": "deviceId", "isolationType": "full"},
        // One column property named twice: one action per member.
        {"@odata.type": "#microsoft.graph.security.disableUserResponseAction", "identifier": "accountSid,onPremSid"},
        // Two column properties: one action with both.
        {"@odata.type": "#microsoft.graph.security.blockFileResponseAction", "identifier": "sha1,sha256", "deviceGroupNames": ["g"]},
        // Both at once: every combination.
        {"@odata.type": "#microsoft.graph.security.stopAndQuarantineFileResponseAction", "identifier": "deviceId,sha1,initiatingProcessSHA1"}
    ]}});
    let migrated = migrate(&rule.to_string());
    assert!(migrated.not_migrated.is_empty(), "{:?}", migrated.not_migrated);
    assert_eq!(
        parse(&migrated.json),
        json!({"detectionAction": {"automatedActions": {
            "isolateDevices": [{"deviceIdColumn": "DeviceId", "isolationType": "full"}],
            "disableUsers": [{"accountSidColumn": "AccountSid"}, {"accountSidColumn": "OnPremSid"}],
            "blockFiles": [{"sha1Column": "SHA1", "sha256Column": "SHA256", "deviceGroupNames": ["g"]}],
            "stopAndQuarantineFiles": [
                {"deviceIdColumn": "DeviceId", "sha1Column": "SHA1"},
                {"deviceIdColumn": "DeviceId", "sha1Column": "InitiatingProcessSHA1"}
            ]
        }}})
    );
}

/// What has no exact equivalent is left out, each with a note quoting it, and the rest of the
/// rule still migrates.
#[test]
fn what_has_no_exact_equivalent_is_noted_not_guessed() {
    let rule = json!({
        "isEnabled": true,
        "status": "disabled",
        "schedule": {"period": "0"},
        "detectionAction": {
            "alertTemplate": {"impactedAssets": [
                {"@odata.type": "#microsoft.graph.security.impactedUserAsset", "identifier": "accountDomain"},
                {"@odata.type": "#microsoft.graph.security.impactedMailboxAsset", "identifier": "senderDisplayName"},
                {"@odata.type": "#microsoft.graph.security.impactedDeviceAsset", "identifier": "deviceName"}
            ]},
            "responseActions": [
                {"@odata.type": "#microsoft.graph.security.moveToJunkResponseAction", "identifier": "networkMessageId"},
                {"@odata.type": "#microsoft.graph.security.isolateDeviceIncidentTaskResponseAction", "identifierValue": "d1", "isolationType": "full"},
                {"@odata.type": "#microsoft.graph.security.newResponseAction", "identifier": "x"},
                {"@odata.type": "#microsoft.graph.security.blockFileResponseAction", "identifier": "sha1,newHash"},
                {"@odata.type": "#microsoft.graph.security.runAntivirusScanResponseAction", "identifier": "deviceId"}
            ]
        }
    });
    let migrated = migrate(&rule.to_string());
    assert_eq!(
        noted(&migrated),
        [
            "/isEnabled",
            "/schedule/period",
            "/detectionAction/responseActions/0",
            "/detectionAction/responseActions/1",
            "/detectionAction/responseActions/2",
            "/detectionAction/responseActions/3",
            "/detectionAction/alertTemplate/impactedAssets/0",
            "/detectionAction/alertTemplate/impactedAssets/1",
        ]
    );
    let details: Vec<&str> = migrated.not_migrated.iter().map(|n| n.detail.as_str()).collect();
    assert!(details[1].contains("continuous"), "{}", details[1]);
    assert!(details[2].contains("recipientColumn"), "{}", details[2]);
    assert!(details[3].contains("no equivalent"), "{}", details[3]);
    assert!(details[4].contains("unknown to this build"), "{}", details[4]);
    assert!(details[5].contains("identifier"), "{}", details[5]);
    assert_eq!(
        parse(&migrated.not_migrated[2].original),
        json!({"@odata.type": "#microsoft.graph.security.moveToJunkResponseAction", "identifier": "networkMessageId"})
    );
    assert_eq!(
        parse(&migrated.json),
        json!({
            "status": "disabled",
            "detectionAction": {
                "alertTemplate": {"entityMappings": {"hosts": [{"nameColumn": "DeviceName"}]}},
                "automatedActions": {"runAntivirusScans": [{"deviceIdColumn": "DeviceId"}]}
            }
        })
    );
}

/// Nulls of a PATCH body keep their meaning: clearing a retired collection clears its
/// replacement; empty collections stay empty.
#[test]
fn nulls_and_empty_collections_move_with_their_fields() {
    let rule = r#"{"detectionAction": {"responseActions": null, "alertTemplate": {"impactedAssets": [], "category": null}},
                   "schedule": {"nextRunDateTime": null}}"#;
    let migrated = migrate(rule);
    assert!(migrated.not_migrated.is_empty(), "{:?}", migrated.not_migrated);
    assert_eq!(
        parse(&migrated.json),
        // The schedule held only a retired null: nothing of it is left to write.
        json!({"detectionAction": {"automatedActions": null, "alertTemplate": {"entityMappings": {}}}})
    );
}

#[test]
fn a_collection_or_bad_json_is_refused() {
    for (json, field) in [(fixture("list"), "json"), ("{\"isEnabled\": 1}".to_owned(), "json/isEnabled")] {
        let request = MigrateRuleRequest { json, ..Default::default() };
        let error = translate::migrate_rule(&LIMITS, &request).unwrap_err();
        assert!(matches!(error, TranslateError::Codec(_)));
        assert_eq!(violations(&error)[0].0, field);
    }
}
