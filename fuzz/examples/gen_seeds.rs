//! Writes the committed seed corpora under `fuzz/seeds/<target>/` and the libFuzzer dictionary
//! `fuzz/graph.dict`, driven by the schema tables so that every type, property and enum member is
//! covered (a type added to proto/ gets seeds by re-running this):
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds
//!
//! Every JSON seed of `round_trip` is checked to be accepted by FromGraph, so that the target
//! starts from inputs that reach ToGraph. The detection-rule targets (`rule_from_graph`,
//! `rule_to_graph_request`) start from the fixtures in `tests/fixtures/rules/` and hostile
//! variants of them. The gateway targets (`retry_after`, `page_token`) get hand-made text seeds,
//! the page tokens sealed with the target's own key.

#[path = "../fuzz_targets/page_token_key.rs"]
mod page_token_key;

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    time::{self, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use graphbridge::graph::{PageTokens, parse_retry_after};

use graphbridge_codec::{
    self as codec, Policy,
    pb::{
        AlertSeverity, DetectionRule, DetectionRuleStatus, FromGraphRequest, ImpactedAsset, ImpactedDeviceAsset,
        ResponseAction, RuleFromGraphRequest, RuleToGraphRequest, ToGraphRequest, TranslateStreamRequest,
        UnknownImpactedAsset, UnknownResponseAction, impacted_asset, response_action::Action,
        translate_stream_request::Request,
    },
    schema::ENUMS,
};
use graphbridge_testkit::{
    DEPTH,
    fixtures::{minimal_rule, rule_fixtures},
    schema::{Holds, Step, reachable_from_rule, response_actions, sentinel, writable},
};
use prost::Message;
use prost_types::{Duration, FieldMask, Timestamp};

/// What a response action's property holds, as the seeds need it.
#[derive(Clone)]
enum Kind {
    /// Writable members (the sentinel left out) and the sentinel.
    Flags(Vec<&'static str>, &'static str),
    Enum(Vec<&'static str>, &'static str),
    Strings,
    String,
}

struct Type {
    odata_type: &'static str,
    graph_name: &'static str,
    properties: Vec<(&'static str, Kind)>,
}

/// The response actions, sorted by qualified name.
fn types() -> Vec<Type> {
    let members = |schema| (writable(schema).map(|m| m.graph_name).collect(), sentinel(schema).graph_name);
    response_actions()
        .iter()
        .map(|(_, node)| {
            let info = node.info;
            let properties = info
                .properties
                .iter()
                .zip(&node.holds)
                .map(|(p, holds)| {
                    let kind = match *holds {
                        Holds::Flags(schema) => {
                            let (w, s) = members(schema);
                            Kind::Flags(w, s)
                        }
                        Holds::Enum(schema) => {
                            let (w, s) = members(schema);
                            Kind::Enum(w, s)
                        }
                        Holds::Strings => Kind::Strings,
                        Holds::String => Kind::String,
                        _ => {
                            panic!("{}.{}: response actions hold enums and strings only", info.graph_name, p.graph_name)
                        }
                    };
                    (p.graph_name, kind)
                })
                .collect();
            Type { odata_type: info.odata_type, graph_name: info.graph_name, properties }
        })
        .collect()
}

fn string(s: &str) -> String {
    let mut out = String::new();
    codec::json::write_string(&mut out, s);
    out
}

/// One action object from (key, raw JSON) members.
fn object(members: &[(&str, String)]) -> String {
    let body: Vec<String> = members.iter().map(|(k, v)| format!("{}:{v}", string(k))).collect();
    format!("{{{}}}", body.join(","))
}

/// Realistic variants of one type's Graph JSON.
fn variants(t: &Type) -> Vec<(String, String)> {
    let name = t.graph_name;
    let mut out = Vec::new();
    let value = |kind: &Kind, pick: usize| match kind {
        Kind::Flags(members, _) | Kind::Enum(members, _) => string(members[pick % members.len()]),
        Kind::Strings => r#"["Servers","Tier 0 \"DCs\"","Zürich ☃ 😀"]"#.to_owned(),
        Kind::String => string("3f4a2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0 \"é\""),
    };
    // The smallest valid object, and one per member of each enum property.
    let minimal: Vec<(&str, String)> = t.properties.iter().map(|(p, k)| (*p, value(k, 0))).collect();
    let mut typed = vec![("@odata.type", string(t.odata_type))];
    typed.extend(minimal.iter().cloned());
    out.push((format!("{name}-minimal"), format!("[{}]", object(&typed))));
    for (index, (property, kind)) in t.properties.iter().enumerate() {
        let (Kind::Flags(members, _) | Kind::Enum(members, _)) = kind else { continue };
        for (m, member) in members.iter().enumerate().skip(1) {
            let mut members_json = typed.clone();
            members_json[index + 1] = (property, string(member));
            out.push((format!("{name}-{property}-{m}"), object(&members_json)));
        }
        if let Kind::Flags(members, _) = kind {
            // All members, reversed and with spaces: read in bit order, trimmed.
            let joined: Vec<&str> = members.iter().rev().copied().collect();
            let mut all = typed.clone();
            all[index + 1] = (property, string(&joined.join(" , ")));
            out.push((format!("{name}-{property}-all"), format!("[{}]", object(&all))));
        }
    }
    // Unknown data of every shape, an unknown member, the sentinel, nulls and empty collections.
    let mut unknown = vec![("@odata.type", string(t.odata_type))];
    for (property, kind) in &t.properties {
        let v = match kind {
            Kind::Flags(members, _) => string(&format!("{},someNewMember", members[0])),
            Kind::Enum(_, sentinel) => string(sentinel),
            Kind::Strings => "[]".to_owned(),
            Kind::String => r#""""#.to_owned(),
        };
        unknown.push((property, v));
    }
    unknown.extend([
        ("retentionDays", "123456789012345678901234567890.000000000000000000001e-7".to_owned()),
        (
            "settings",
            r#"{"mode":"aggressive","levels":[1,-0.5,true,null,{"x":[[]]}],"note":"\u00e9\ud83d\ude00\n"}"#.to_owned(),
        ),
        ("enabled", "false".to_owned()),
        ("comment", "null".to_owned()),
        ("tags", r#"["a",1,null]"#.to_owned()),
    ]);
    out.push((format!("{name}-unknown-data"), format!("[{}]", object(&unknown))));
    let mut sentinel = vec![("@odata.type", string(t.odata_type.trim_start_matches('#')))];
    for (property, kind) in &t.properties {
        let v = match kind {
            Kind::Flags(_, s) | Kind::Enum(_, s) => string(s),
            Kind::Strings | Kind::String => "null".to_owned(),
        };
        sentinel.push((property, v));
    }
    out.push((format!("{name}-sentinel-no-hash"), object(&sentinel)));
    out
}

fn seeds() -> Vec<(String, String)> {
    let types = types();
    let mut seeds: Vec<(String, String)> = types.iter().flat_map(variants).collect();
    // Every type in one array, compact and pretty.
    let all: Vec<String> = types
        .iter()
        .map(|t| {
            let mut members = vec![("@odata.type", string(t.odata_type))];
            for (p, k) in &t.properties {
                members.push((
                    p,
                    match k {
                        Kind::Flags(m, _) => string(&m.join(",")),
                        Kind::Enum(m, _) => string(m[0]),
                        Kind::Strings => r#"["g1","g2"]"#.to_owned(),
                        Kind::String => string("v1"),
                    },
                ));
            }
            object(&members)
        })
        .collect();
    let all = format!("[{}]", all.join(","));
    let pretty = codec::to_graph(
        &codec::from_graph(&all, Policy::Preserve, DEPTH).unwrap().actions,
        Policy::Preserve,
        true,
        DEPTH,
    )
    .unwrap()
    .json;
    seeds.push(("all-types".into(), all));
    seeds.push(("all-types-pretty".into(), pretty));
    seeds.push(("empty-array".into(), "[]".into()));
    seeds.push((
        "unknown-type-nested".into(),
        r##"[{"@odata.type":"#microsoft.graph.security.quarantineDeviceResponseAction","identifier":"deviceId,newId","scope":{"devices":[{"id":"a/b~c","tags":["x"]}],"depth":{"a":{"b":{"c":[1,2,3]}}}},"big":-1234567890123456789012345678901234567890e+300}]"##.into(),
    ));
    seeds.push((
        "unknown-type-single".into(),
        r#"{"@odata.type":"microsoft.graph.security.futureResponseAction"}"#.into(),
    ));
    seeds.push(("whitespace-and-escapes".into(), "\r\n\t[ {\"@odata.type\" : \"#microsoft.graph.security.hardDeleteResponseAction\" , \"identifier\" : \"networkMessageId\" , \"k\\u0065y\\/\\\\\" : \"\\b\\f\\n\\r\\t\\u0000\" } ]\n".into()));
    seeds
}

/// Inputs that broke a target once (RELIABILITY.md, "Findings"): kept as seeds of every JSON
/// target so that each smoke run checks them again.
fn regressions() -> Vec<(String, String)> {
    let value = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    [
        // Bug 1: "##" read as the unknown type "#…", which ToGraph refuses or writes with one '#' less.
        (
            "double-hash-known",
            r###"[{"@odata.type":"##microsoft.graph.security.allowFileResponseAction","identifier":"sha1"}]"###
                .to_owned(),
        ),
        (
            "double-hash-unknown",
            r###"[{"@odata.type":"##microsoft.graph.security.newResponseAction","x":1}]"###.to_owned(),
        ),
        // Bug 2: one action object (not in an array) holds a value one level deeper than ToGraph
        // can write back, at the round_trip target's small depth limit (5) and at the default (64).
        (
            "single-object-depth-5",
            format!(r##"{{"@odata.type":"#microsoft.graph.security.newResponseAction","a":{}}}"##, value(4)),
        ),
        (
            "single-object-depth-64",
            format!(r##"{{"@odata.type":"#microsoft.graph.security.newResponseAction","a":{}}}"##, value(63)),
        ),
    ]
    .into_iter()
    .map(|(n, j)| (format!("regress-{n}"), j))
    .collect()
}

/// Inputs FromGraph must refuse (only for the from_graph target).
fn malformed() -> Vec<(String, String)> {
    let known = "#microsoft.graph.security.isolateDeviceResponseAction";
    [
        ("empty", String::new()),
        ("trailing", format!("[{{\"@odata.type\":\"{known}\"}}] x")),
        ("duplicate-key", format!("[{{\"@odata.type\":\"{known}\",\"identifier\":\"deviceId\",\"identifier\":\"deviceId\"}}]")),
        ("duplicate-escaped-key", format!("{{\"@odata.type\":\"{known}\",\"@odata\\u002etype\":\"#x\"}}")),
        ("lone-surrogate", "[{\"@odata.type\":\"#x\",\"a\":\"\\ud800\"}]".into()),
        ("nan", "[{\"@odata.type\":\"#x\",\"a\":NaN,\"b\":Infinity}]".into()),
        ("deep", format!("[{{\"@odata.type\":\"#x\",\"a\":{}{}}}]", "[".repeat(70), "]".repeat(70))),
        ("missing-type", "[{\"identifier\":\"deviceId\"}]".into()),
        ("wrong-types", format!("[{{\"@odata.type\":\"{known}\",\"identifier\":[\"deviceId\"],\"isolationType\":1}},7,{{\"@odata.type\":5}},{{\"@odata.type\":\"#\"}}]")),
        ("bom", format!("\u{feff}[{{\"@odata.type\":\"{known}\"}}]")),
        ("scalar", "\"text\"".into()),
        ("unterminated", "[{\"@odata.type\":\"#x".into()),
        ("control-char", "[{\"@odata.type\":\"#x\u{1}\"}]".into()),
        ("numbers", "[{\"@odata.type\":\"#x\",\"a\":[01,1.,-,1e,+1,.5]}]".into()),
    ]
    .into_iter()
    .map(|(n, j)| (format!("bad-{n}"), j))
    .collect()
}

/// `retry_after` seeds: the value, then `\n` and `now` in seconds from the epoch where it matters.
fn retry_after_seeds() -> Vec<(&'static str, String)> {
    const NOW: u64 = 1_700_000_000;
    let date = |seconds: u64| httpdate::fmt_http_date(UNIX_EPOCH + time::Duration::from_secs(seconds));
    let mut seeds: Vec<(&str, String)> = [
        ("seconds", "120"),
        ("zero", "0"),
        ("graph-fraction", "2.128"),
        ("spaces", " 7 "),
        ("half-nanosecond", "0.0000000015"),
        ("long-fraction", "1.12345678901234567890"),
        ("near-u64-max", "18446744073709551615"),
        ("ten-to-19", "9999999999999999999.999999999"),
        ("exponent", "1e19"),
        ("rfc850-date", "Tuesday, 14-Nov-23 22:15:20 GMT\n1700000000"),
        ("asctime-date", "Tue Nov 14 22:15:20 2023\n1700000000"),
        ("date-before-epoch-now", "Thu, 01 Jan 1970 00:00:00 GMT\n-86400"),
        ("last-date", "Fri, 31 Dec 9999 23:59:59 GMT\n0"),
        ("bad-empty", ""),
        ("bad-negative", "-1"),
        ("bad-word", "soon"),
        ("bad-infinite", "1e999"),
        ("bad-nan", "NaN"),
        ("bad-two-points", "1.5.2"),
        ("trailing-point", "1."),
        ("bad-plus", "+1"),
        ("bad-hex", "0x10"),
        ("bad-arabic-indic-digit", "\u{663}"),
        ("bad-hour", "Tue, 14 Nov 2023 25:15:20 GMT"),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .collect();
    seeds.push(("date-in-two-minutes", format!("{}\n{NOW}", date(NOW + 120))));
    seeds.push(("date-two-minutes-ago", format!("{}\n{NOW}", date(NOW - 120))));
    seeds
}

/// `page_token` seeds, `A\nB\nC`: tokens sealed with the target's key (A) for a filter (B), and
/// links to seal (A) for a filter (B) and to open with another (C).
fn page_token_seeds() -> Vec<(&'static str, String)> {
    let link = "/beta/security/rules/detectionRules?$top=10&$skiptoken=RFNwdAIAAQAAAA";
    let (filter, other) = ("status eq 'enabled'", "status eq 'disabled'");
    let tokens = PageTokens::new(page_token_key::KEY);
    let sealed = tokens.seal(link, filter);
    let mut other_version = URL_SAFE_NO_PAD.decode(&sealed).expect("base64url");
    other_version[0] = 2;
    vec![
        ("sealed", format!("{sealed}\n{filter}")),
        ("sealed-no-filter", tokens.seal(link, "")),
        ("sealed-other-filter", format!("{sealed}\n{other}")),
        ("sealed-truncated", format!("{}\n{filter}", &sealed[..sealed.len() - 1])),
        ("sealed-other-version", format!("{}\n{filter}", URL_SAFE_NO_PAD.encode(other_version))),
        ("link", format!("{link}\n{filter}\n{other}")),
        ("absolute-link", format!("https://graph.microsoft.com{link}\ncontains(displayName,'\u{e9}t\u{e9}')\n")),
        ("bad-junk", "!!!".into()),
        ("bad-short", "AAAA".into()),
        ("bad-padded", format!("{sealed}==\n{filter}")),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn action(case: Action, additional_data: &[(&str, &str)]) -> ResponseAction {
    let additional_data = additional_data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    ResponseAction { action: Some(case), additional_data }
}

fn proto_seeds(json_seeds: &[(String, String)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (name, json)) in json_seeds.iter().enumerate() {
        let read = codec::from_graph(json, Policy::Preserve, DEPTH).expect("valid seed");
        let request = ToGraphRequest { actions: read.actions, pretty: i % 3 == 0, unknown_data_policy: (i % 4) as i32 };
        out.push((format!("to-{name}"), request.encode_to_vec()));
        if i % 4 == 0 {
            let request = FromGraphRequest { json: json.clone(), unknown_data_policy: (i % 3) as i32 + 1 };
            out.push((format!("from-{name}"), request.encode_to_vec()));
        }
        if i % 8 == 0 {
            let item = TranslateStreamRequest {
                id: format!("item-{i}"),
                request: Some(Request::FromGraph(FromGraphRequest { json: json.clone(), unknown_data_policy: 0 })),
            };
            out.push((format!("stream-{name}"), item.encode_to_vec()));
        }
    }
    // Requests ToGraph must refuse, and additional_data of every kind.
    let unknown = |t: &str| Action::Unknown(UnknownResponseAction { odata_type: t.to_owned() });
    let isolate = |identifier: Vec<i32>, isolation_type: i32| {
        Action::IsolateDevice(graphbridge_codec::pb::IsolateDeviceResponseAction { identifier, isolation_type })
    };
    let requests = [
        (
            "refused",
            vec![
                action(isolate(vec![0, 2, 99], 0), &[("isolationType", "\"Full\""), ("@odata.type", "\"#x\"")]),
                ResponseAction::default(),
                action(unknown(""), &[]),
                action(unknown("#microsoft.graph.security.isolateDeviceResponseAction"), &[]),
            ],
        ),
        (
            "raw-known",
            vec![action(isolate(vec![], 0), &[("identifier", "\" deviceId \""), ("isolationType", "\"selective\"")])],
        ),
        (
            "raw-unknown",
            vec![
                action(
                    isolate(vec![1], 1),
                    &[
                        ("x", " [1, {\"a\": null}] "),
                        ("y", "12345678901234567890123456789"),
                        ("z", "{\"a\":1,\"a\":2}"),
                    ],
                ),
                action(
                    unknown("microsoft.graph.security.newResponseAction"),
                    &[("identifier", "\"deviceId\""), ("n", "[[[[]]]]")],
                ),
            ],
        ),
        // Bug 1 (RELIABILITY.md): a type name starting with '#' after the one ToGraph strips.
        ("regress-double-hash", vec![action(unknown("##microsoft.graph.security.newResponseAction"), &[("x", "1")])]),
    ];
    for (name, actions) in requests {
        for policy in 0..4 {
            let request = ToGraphRequest { actions: actions.clone(), pretty: policy == 1, unknown_data_policy: policy };
            out.push((format!("to-{name}-{policy}"), request.encode_to_vec()));
        }
    }
    out
}

/// Small hostile rule documents RuleFromGraph reads (each is checked to be accepted).
fn rule_variants() -> Vec<(String, String)> {
    let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    [
        ("empty-object", "{}".to_owned()),
        ("empty-collection", r#"{"@odata.context":"c","@odata.count":0,"value":[]}"#.to_owned()),
        (
            "collection-odd-members",
            r#"{"@odata.nextLink":"n","value":[{},{"displayName":null,"description":""}],"@odata.deltaLink":{"a":[1]},"x":1e999}"#
                .to_owned(),
        ),
        // Nulls at every level of one rule: masked and unset, written back as nulls.
        (
            "nulls",
            r#"{"displayName":null,"status":null,"isEnabled":null,"schedule":{"period":null,"frequency":null},"queryCondition":null,"detectionAction":{"alertTemplate":{"tactics":null,"customDetails":null,"severity":null},"responseActions":null,"organizationalScope":null},"lastRunDetails":{"errorCode":null}}"#
                .to_owned(),
        ),
        // protobuf cannot hold "" or [] apart from unset: kept raw.
        (
            "empty-values",
            r#"{"id":"","displayName":"","queryCondition":{"queryText":""},"detectionAction":{"responseActions":[],"alertTemplate":{"mitreTechniques":[],"impactedAssets":[null],"customDetails":{},"tactics":[{"tactic":"","techniques":[]}]}},"schedule":{}}"#
                .to_owned(),
        ),
        // Members this build does not hold typed: the sentinel, unknown members, odd durations and dates.
        (
            "untyped-values",
            r#"{"status":"unknownFutureValue","createdDateTime":"2023-06-25T11:37:28+02:00","lastModifiedDateTime":"2023-06-25T09:37:28.123456789Z","schedule":{"frequency":"P1M","lookback":"-PT1.5S","nextRunDateTime":"0001-01-01T00:00:00Z"},"lastRunDetails":{"errorCode":"noImpactedEntity","status":"paused","lastRunDateTime":"9999-12-31T23:59:59.9999999Z"},"detectionAction":{"alertTemplate":{"severity":"critical","eventGroupingKind":"singleAlert"},"automatedActions":{"isolateDevices":[{"deviceIdColumn":"DeviceId","isolationType":"Full"}]}}}"#
                .to_owned(),
        ),
        (
            "durations",
            r#"{"schedule":{"frequency":"P1DT2H3M4.5S","lookback":"PT0.0000001S"},"queryCondition":{"lastModifiedDateTime":"2023-06-25T09:37:28Z"}}"#
                .to_owned(),
        ),
        // Polymorphic values: no '#', an unknown type, flags out of order with spaces.
        (
            "polymorphic",
            r##"{"detectionAction":{"alertTemplate":{"impactedAssets":[{"@odata.type":"microsoft.graph.security.impactedUserAsset","identifier":"accountSid"},{"@odata.type":"#microsoft.graph.security.impactedPrinterAsset","identifier":{"a":[]}}]},"responseActions":[{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":" sha256 ,sha1,sha256","deviceGroupNames":["a",null]},{"@odata.type":"#microsoft.graph.security.futureResponseAction","@odata.etag":"W/\"1\""}]}}"##
                .to_owned(),
        ),
        // Annotations and an open type's keys, escaped keys.
        (
            "annotations",
            r##"{"@odata.etag":"W/\"1\"","displayName@odata.type":"#String","display\u004eame":"x","detectionAction":{"alertTemplate":{"customDetails":{"value":1,"@odata.type":"#x","a@b":[{}],"":null}}}}"##
                .to_owned(),
        ),
        // Unknown properties at every level.
        (
            "unknown-properties",
            r#"{"newTopLevel":{"a":[1,2.50]},"queryCondition":{"queryText":"q","queryLanguage":"kql"},"detectionAction":{"alertTemplate":{"entityMappings":{"hosts":[{"deviceIdColumn":"DeviceId","newColumn":"X"}],"printers":[]}},"automatedActions":{"isolateDevices":[{"deviceIdColumn":"DeviceId","isolationType":"full","reason":"r"}],"newActions":[{}]}}}"#
                .to_owned(),
        ),
        // Inputs that once broke a target: a date-time with non-ASCII text (a panic), one finer
        // than 100 ns (read, then refused on the way back), a rule with a "value" member inside a
        // collection (written alone, it read as a collection).
        ("regress-non-ascii-time", r#"{"createdDateTime":"2023-06-25T09:37:0é"}"#.to_owned()),
        ("regress-sub-100ns", r#"{"createdDateTime":"2023-06-25T09:37:28.123456789Z"}"#.to_owned()),
        (
            "regress-value-member",
            r#"{"value":[{"displayName":"x","queryCondition":{"queryText":"q"},"schedule":{},"detectionAction":{"alertTemplate":{"title":"t","description":"d","severity":"low"}},"value":[]}]}"#
                .to_owned(),
        ),
        // Raw values one level under the round_trip depth limit (6) and the default (64).
        ("deep-6", format!(r#"{{"schedule":{{"x":{}}}}}"#, deep(4))),
        ("deep-64", format!(r#"{{"newTopLevel":{}}}"#, deep(63))),
    ]
    .into_iter()
    .map(|(n, j)| (format!("rule-{n}"), j))
    .collect()
}

/// Rule documents RuleFromGraph must refuse.
fn rule_malformed() -> Vec<(String, String)> {
    [
        ("array", "[]".to_owned()),
        ("scalar", "\"rule\"".to_owned()),
        ("wrong-types", r#"{"isEnabled":"yes","schedule":[],"displayName":1,"detectionAction":{"alertTemplate":{"tactics":[{"tactic":"x"},3]}}}"#.to_owned()),
        ("missing-type", r#"{"detectionAction":{"responseActions":[{"identifier":"deviceId"}]}}"#.to_owned()),
        ("double-hash", r###"{"detectionAction":{"alertTemplate":{"impactedAssets":[{"@odata.type":"##microsoft.graph.security.impactedDeviceAsset"}]}}}"###.to_owned()),
        ("bad-envelope", r#"{"value":[],"@odata.nextLink":1}"#.to_owned()),
        ("duplicate-key", r#"{"displayName":"a","display\u004eame":"b"}"#.to_owned()),
        ("too-deep", format!(r#"{{"x":{}{}}}"#, "[".repeat(70), "]".repeat(70))),
    ]
    .into_iter()
    .map(|(n, j)| (format!("bad-rule-{n}"), j))
    .collect()
}

/// A small create body with an id and a status.
fn small_rule() -> DetectionRule {
    DetectionRule { id: "encoded-powershell".into(), status: DetectionRuleStatus::Enabled.into(), ..minimal_rule() }
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

/// RuleToGraphRequest seeds: every rule document read (with and without its mask), and hand-made
/// requests that RuleToGraph must refuse or that stretch it. RuleFromGraphRequest seeds too: the
/// `rule_to_graph_request` target decodes its input as both.
fn rule_proto_seeds(json_seeds: &[(String, String)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (name, json)) in json_seeds.iter().enumerate() {
        let read = codec::rules_from_graph(json, Policy::Preserve, DEPTH).expect("valid seed");
        for (r, rule) in read.rules.into_iter().enumerate().take(2) {
            let update_mask = (!read.present.is_empty()).then(|| FieldMask { paths: read.present.clone() });
            let request = RuleToGraphRequest {
                rule: Some(rule),
                update_mask,
                pretty: i % 3 == 0,
                unknown_data_policy: (i % 4) as i32,
            };
            out.push((format!("to-{name}-{r}"), request.encode_to_vec()));
        }
        if i % 3 == 0 {
            let request = RuleFromGraphRequest { json: json.clone(), unknown_data_policy: (i % 4) as i32 };
            out.push((format!("from-{name}"), request.encode_to_vec()));
        }
    }
    let rule = small_rule();
    let with = |edit: &dyn Fn(&mut DetectionRule)| {
        let mut rule = small_rule();
        edit(&mut rule);
        rule
    };
    let unknown_asset = |t: &str| ImpactedAsset {
        asset: Some(impacted_asset::Asset::Unknown(UnknownImpactedAsset { odata_type: t.into() })),
        additional_data: [("identifier".to_owned(), "\"printerId\"".to_owned())].into(),
    };
    let requests: Vec<(&str, DetectionRule, Option<FieldMask>)> = vec![
        ("small", rule.clone(), None),
        (
            "patch",
            rule.clone(),
            mask(&["status", "description", "schedule.frequency", "detection_action.organizational_scope"]),
        ),
        ("patch-into-unset", with(&|r| r.schedule = None), mask(&["schedule.next_run_date_time", "schedule.period"])),
        (
            "patch-parent-and-child",
            rule.clone(),
            mask(&["schedule", "schedule.frequency", "detection_action.alert_template.title"]),
        ),
        (
            "bad-mask",
            rule.clone(),
            mask(&["", "nope", "schedule.", "detection_action.response_actions.identifier", "display_name.x"]),
        ),
        (
            "clear-required",
            DetectionRule::default(),
            mask(&["display_name", "detection_action.alert_template.severity", "query_condition"]),
        ),
        ("empty", DetectionRule::default(), None),
        (
            "out-of-range",
            with(&|r| {
                r.status = 99;
                r.created_date_time = Some(Timestamp { seconds: i64::MAX, nanos: -1 });
                r.last_modified_date_time = Some(Timestamp { seconds: -62_135_596_801, nanos: 150 });
                r.schedule.as_mut().unwrap().frequency = Some(Duration { seconds: -1, nanos: 1 });
                r.schedule.as_mut().unwrap().lookback = Some(Duration { seconds: i64::MAX, nanos: 999_999_999 });
                r.detection_action.as_mut().unwrap().alert_template.as_mut().unwrap().severity =
                    AlertSeverity::UnknownFutureValue.into();
            }),
            None,
        ),
        (
            "raw-data",
            with(&|r| {
                r.display_name.clear();
                r.additional_data = [
                    ("displayName", "\"from raw\""),
                    ("description", "\"\""),
                    ("status", "\"paused\""),
                    ("@odata.context", "\"c\""),
                    ("x", " [1, {\"a\": null}] "),
                    ("y", "not json"),
                    ("z", "{\"a\":1,\"a\":2}"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
                r.schedule.as_mut().unwrap().additional_data.insert("frequency".into(), "\"PT2H\"".into());
            }),
            None,
        ),
        (
            "assets",
            with(&|r| {
                let template = r.detection_action.as_mut().unwrap().alert_template.as_mut().unwrap();
                template.impacted_assets = vec![
                    ImpactedAsset {
                        asset: Some(impacted_asset::Asset::ImpactedDeviceAsset(ImpactedDeviceAsset { identifier: 2 })),
                        additional_data: [("@odata.type".to_owned(), "\"#x\"".to_owned())].into(),
                    },
                    unknown_asset("microsoft.graph.security.impactedPrinterAsset"),
                    unknown_asset("#microsoft.graph.security.impactedDeviceAsset"),
                    unknown_asset("##x"),
                    ImpactedAsset::default(),
                ];
            }),
            mask(&["detection_action.alert_template.impacted_assets"]),
        ),
        // "value" is the member that makes a document an OData collection.
        (
            "value-member",
            with(&|r| {
                r.detection_action.as_mut().unwrap().alert_template.as_mut().unwrap().custom_details =
                    Some(graphbridge_codec::pb::AlertCustomDetails {
                        additional_data: [("value".to_owned(), "[]".to_owned())].into(),
                    });
            }),
            None,
        ),
    ];
    for (name, rule, update_mask) in requests {
        for policy in 0..4 {
            let request = RuleToGraphRequest {
                rule: Some(rule.clone()),
                update_mask: update_mask.clone(),
                pretty: policy == 1,
                unknown_data_policy: policy,
            };
            out.push((format!("to-{name}-{policy}"), request.encode_to_vec()));
        }
    }
    out
}

/// Graph names of the rule model: every key of the fixtures, and every property of the types a
/// rule holds (the polymorphic ones' concrete types too).
fn rule_words(words: &mut BTreeSet<String>) {
    fn keys(value: &serde_json::Value, words: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    words.insert(format!("\"{k}\""));
                    keys(v, words);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, words)),
            _ => {}
        }
    }
    for (_, json) in rule_fixtures() {
        keys(&serde_json::from_str(&json).unwrap(), words);
    }
    for reached in reachable_from_rule() {
        if let Some(Step::Item(_, Some(qualified_name))) = reached.path.last() {
            words.insert(format!("#{qualified_name}"));
        }
        for property in reached.node.info.properties {
            words.insert(format!("\"{}\"", property.graph_name));
        }
    }
    // "value" bare too: a key of additional_data in the protobuf target.
    for word in [
        "value",
        "\"value\"",
        "\"@odata.context\"",
        "\"@odata.nextLink\"",
        "\"@odata.count\"",
        "PT1H",
        "P1D",
        "2023-06-25T09:37:28.6149005Z",
    ] {
        words.insert(word.to_owned());
    }
}

/// libFuzzer dictionary: Graph names from the schema and JSON tokens.
fn dictionary() -> String {
    let mut words = BTreeSet::new();
    for (name, node) in response_actions() {
        words.insert(format!("#{name}"));
        for property in node.info.properties {
            words.insert(format!("\"{}\"", property.graph_name));
        }
    }
    for schema in ENUMS {
        for m in schema.members {
            words.insert(m.graph_name.to_owned());
        }
    }
    rule_words(&mut words);
    for token in [
        "\"@odata.type\"",
        "#microsoft.graph.security.",
        "ResponseAction",
        "null",
        "true",
        "false",
        "\\u0000",
        "\\ud83d\\ude00",
        "\\ud800",
        "\\udc00",
        "\\\"",
        "\\\\",
        "1e999",
        "-0.0E+00",
        "[]",
        "{}",
        "\":",
        "\",\"",
    ] {
        words.insert(token.to_owned());
    }
    let mut out = String::from("# Generated by `cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds`.\n");
    for word in words {
        out.push('"');
        for b in word.bytes() {
            match b {
                b'"' | b'\\' => write!(out, "\\{}", b as char).unwrap(),
                0x20..=0x7e => out.push(b as char),
                _ => write!(out, "\\x{b:02X}").unwrap(),
            }
        }
        out.push_str("\"\n");
    }
    out
}

fn main() {
    assert_eq!(rule_fixtures().len(), 10, "tests/fixtures/rules/: 7 fixtures and 3 migrations");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let seeds_dir = root.join("seeds");
    let _ = fs::remove_dir_all(&seeds_dir);
    let valid = seeds();
    for (name, json) in &valid {
        let read = codec::from_graph(json, Policy::Preserve, DEPTH).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!json.is_empty() && (!read.actions.is_empty() || json == "[]"), "{name}");
        for target in ["from_graph", "round_trip"] {
            write(&seeds_dir.join(target), &format!("{name}.json"), json.as_bytes());
        }
    }
    for (name, json) in regressions() {
        for target in ["from_graph", "round_trip"] {
            write(&seeds_dir.join(target), &format!("{name}.json"), json.as_bytes());
        }
    }
    for (name, json) in malformed() {
        assert!(codec::from_graph(&json, Policy::Preserve, DEPTH).is_err(), "{name} was accepted");
        write(&seeds_dir.join("from_graph"), &format!("{name}.json"), json.as_bytes());
    }
    let protos = proto_seeds(&valid);
    for (name, bytes) in &protos {
        write(&seeds_dir.join("to_graph_request"), &format!("{name}.bin"), bytes);
    }
    let mut rules: Vec<(String, String)> =
        rule_fixtures().into_iter().map(|(n, j)| (format!("fixture-{n}"), j)).collect();
    rules.extend(rule_variants());
    for (name, json) in &rules {
        codec::rules_from_graph(json, Policy::Preserve, DEPTH).unwrap_or_else(|e| panic!("{name}: {e}"));
        write(&seeds_dir.join("rule_from_graph"), &format!("{name}.json"), json.as_bytes());
    }
    for (name, json) in rule_malformed() {
        assert!(codec::rules_from_graph(&json, Policy::Preserve, DEPTH).is_err(), "{name} was accepted");
        write(&seeds_dir.join("rule_from_graph"), &format!("{name}.json"), json.as_bytes());
    }
    let rule_protos = rule_proto_seeds(&rules);
    for (name, bytes) in &rule_protos {
        write(&seeds_dir.join("rule_to_graph_request"), &format!("{name}.bin"), bytes);
    }
    let retry_after = retry_after_seeds();
    for (name, text) in &retry_after {
        let (value, _) = text.split_once('\n').unwrap_or((text, ""));
        let accepted = parse_retry_after(value, UNIX_EPOCH + time::Duration::from_secs(1_700_000_000)).is_some();
        assert_eq!(accepted, !name.starts_with("bad-") && *name != "near-u64-max", "{name}: {value:?}");
        write(&seeds_dir.join("retry_after"), &format!("{name}.txt"), text.as_bytes());
    }
    let page_token = page_token_seeds();
    for (name, text) in &page_token {
        write(&seeds_dir.join("page_token"), &format!("{name}.txt"), text.as_bytes());
    }
    fs::write(root.join("graph.dict"), dictionary()).unwrap();
    println!(
        "{} JSON seeds, {} malformed, {} protobuf seeds; {} rule JSON seeds, {} malformed, {} rule protobuf seeds; \
         {} retry_after and {} page_token seeds; and graph.dict",
        valid.len(),
        malformed().len(),
        protos.len(),
        rules.len(),
        rule_malformed().len(),
        rule_protos.len(),
        retry_after.len(),
        page_token.len()
    );
}
