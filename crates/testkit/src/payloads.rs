//! The payloads of the benches (BENCHMARKS.md) and of `scripts/bench-load`, each in the forms
//! they need: the protobuf request and Graph JSON.

use graphbridge_codec::{
    self as codec, Policy,
    pb::{
        self, FromGraphRequest, ResponseAction, RuleFromGraphRequest, RuleToGraphRequest, ToGraphRequest,
        response_action::Action,
    },
    translate::{self, Limits},
};
use prost::Message;

use crate::{DEPTH, fixtures::compact_rule_fixture};

/// One payload in all its forms.
pub struct Payload {
    pub name: &'static str,
    pub actions: usize,
    /// ToGraph input: the actions, and the encoded `ToGraphRequest` carrying them.
    pub to_graph_request: ToGraphRequest,
    pub to_graph_bytes: Vec<u8>,
    /// FromGraph input: Graph JSON (what `ToGraph` writes for the same actions).
    pub graph_json: String,
}

/// The four payloads of BENCHMARKS.md.
pub fn payloads() -> Vec<Payload> {
    let seed = seed16();
    let batch: Vec<ResponseAction> = seed.iter().cycle().take(1000).cloned().collect();
    vec![
        Payload::from_actions("one", vec![block_file()]),
        Payload::from_actions("seed16", seed),
        Payload::from_actions("batch1000", batch),
        Payload::from_graph_json("unknown16", unknown_heavy_json(16)),
    ]
}

/// The Translator requests of `scripts/bench-load` and `scripts/bench-instructions`: ToGraph and
/// FromGraph with the 16 seed actions, RuleToGraph and RuleFromGraph with a whole rule (the
/// `new-get` fixture, compacted).
pub struct LoadRequests {
    pub to_graph: ToGraphRequest,
    pub from_graph: FromGraphRequest,
    pub rule_to_graph: RuleToGraphRequest,
    pub rule_from_graph: RuleFromGraphRequest,
}

pub fn load_requests() -> LoadRequests {
    let seed16 = payloads().into_iter().find(|p| p.name == "seed16").expect("the seed16 payload");
    let rule_from_graph = RuleFromGraphRequest { json: compact_rule_fixture("new-get"), ..Default::default() };
    let read = translate::rule_from_graph(&Limits::UNBOUNDED, &rule_from_graph).expect("a valid rule");
    LoadRequests {
        to_graph: seed16.to_graph_request,
        from_graph: FromGraphRequest { json: seed16.graph_json, ..Default::default() },
        rule_to_graph: RuleToGraphRequest { rule: read.rules.into_iter().next(), ..Default::default() },
        rule_from_graph,
    }
}

impl Payload {
    fn from_actions(name: &'static str, actions: Vec<ResponseAction>) -> Self {
        let graph_json = codec::to_graph(&actions, Policy::Preserve, false, DEPTH).expect("valid actions").json;
        Self::from_graph_json(name, graph_json)
    }

    fn from_graph_json(name: &'static str, graph_json: String) -> Self {
        let read = codec::from_graph(&graph_json, Policy::Preserve, DEPTH).expect("valid Graph JSON");
        let to_graph_request = ToGraphRequest { actions: read.actions, ..Default::default() };
        let to_graph_bytes = to_graph_request.encode_to_vec();
        Self { name, actions: to_graph_request.actions.len(), to_graph_request, to_graph_bytes, graph_json }
    }
}

fn action(case: Action) -> ResponseAction {
    ResponseAction { action: Some(case), additional_data: Default::default() }
}

fn block_file() -> ResponseAction {
    action(Action::BlockFile(pb::BlockFileResponseAction {
        device_group_names: vec!["Servers".into(), "Domain Controllers".into()],
        identifier: vec![
            pb::FileEntityIdentifier::Sha1.into(),
            pb::FileEntityIdentifier::InitiatingProcessSha256.into(),
        ],
    }))
}

/// One action of each of the 16 seed types, with the values a detection rule typically sets.
fn seed16() -> Vec<ResponseAction> {
    use pb::{
        DeviceIdEntityIdentifier as Device, DisableUserEntityIdentifier as Disable, EmailEntityIdentifier as Email,
        FileEntityIdentifier as File, ForceUserPasswordResetEntityIdentifier as Reset,
        MarkUserAsCompromisedEntityIdentifier as Mark, StopAndQuarantineFileEntityIdentifier as Stop,
    };
    let device = || vec![Device::DeviceId.into()];
    let email = || vec![Email::NetworkMessageId.into(), Email::RecipientEmailAddress.into()];
    let cases = vec![
        Action::StopAndQuarantineFile(pb::StopAndQuarantineFileResponseAction {
            identifier: vec![Stop::DeviceId.into(), Stop::Sha1.into()],
        }),
        Action::DisableUser(pb::DisableUserResponseAction {
            identifier: vec![Disable::AccountSid.into(), Disable::InitiatingProcessAccountSid.into()],
        }),
        Action::ForceUserPasswordReset(pb::ForceUserPasswordResetResponseAction {
            identifier: vec![Reset::AccountSid.into()],
        }),
        Action::MarkUserAsCompromised(pb::MarkUserAsCompromisedResponseAction {
            identifier: vec![Mark::AccountObjectId.into(), Mark::RecipientObjectId.into()],
        }),
        Action::CollectInvestigationPackage(pb::CollectInvestigationPackageResponseAction { identifier: device() }),
        Action::InitiateInvestigation(pb::InitiateInvestigationResponseAction { identifier: device() }),
        Action::IsolateDevice(pb::IsolateDeviceResponseAction {
            identifier: device(),
            isolation_type: pb::IsolationType::Full.into(),
        }),
        Action::RestrictAppExecution(pb::RestrictAppExecutionResponseAction { identifier: device() }),
        Action::RunAntivirusScan(pb::RunAntivirusScanResponseAction { identifier: device() }),
        Action::AllowFile(pb::AllowFileResponseAction {
            device_group_names: vec!["Workstations".into()],
            identifier: vec![File::Sha256.into()],
        }),
        Action::BlockFile(pb::BlockFileResponseAction {
            device_group_names: vec!["Servers".into(), "Domain Controllers".into()],
            identifier: vec![File::Sha1.into(), File::InitiatingProcessSha256.into()],
        }),
        Action::HardDelete(pb::HardDeleteResponseAction { identifier: email() }),
        Action::SoftDelete(pb::SoftDeleteResponseAction { identifier: email() }),
        Action::MoveToInbox(pb::MoveToInboxResponseAction { identifier: email() }),
        Action::MoveToDeletedItems(pb::MoveToDeletedItemsResponseAction { identifier: email() }),
        Action::MoveToJunk(pb::MoveToJunkResponseAction { identifier: email() }),
    ];
    cases.into_iter().map(action).collect()
}

/// `count` actions as a newer Graph might send them: each known type with properties this build
/// does not know (nested objects, arrays, 30-digit numbers, escapes, non-ASCII text), an
/// unknown enum member, and every fourth action of a type this build has never seen.
fn unknown_heavy_json(count: usize) -> String {
    let mut out = String::from("[");
    // The seed types: the incident-task ones have other properties (identifierValue).
    let seed_types = Action::KNOWN_TYPES.iter().filter(|t| !t.contains("IncidentTask"));
    for (i, known) in seed_types.cycle().take(count).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let graph_type = if i % 4 == 3 { "microsoft.graph.security.quarantineCloudAppResponseAction" } else { known };
        let identifier = match *known {
            t if t.contains("File") => "sha1,initiatingProcessSHA256",
            t if t.contains("User") || t.contains("Compromised") => "accountSid,onPremSid",
            t if t.ends_with("DeleteResponseAction") || t.contains("Move") => "networkMessageId,quarantineId",
            _ => "deviceId",
        };
        // isolateDevice also requires isolationType, or ToGraph would refuse the action.
        let isolation = if known.ends_with("isolateDeviceResponseAction") { r#""isolationType":"full","# } else { "" };
        out.push_str(&format!(
            concat!(
                r##"{{"@odata.type":"#{graph_type}","identifier":"{identifier}",{isolation}"##,
                r#""retentionDays":123456789012345678901234567890,"scoreDelta":-0.000123456789e-12,"#,
                r#""enforcement":{{"mode":"audit","since":"2026-11-29T10:11:12.1234567Z","#,
                r#""scope":{{"tenants":["a6d4e3b1-0f1c-4b6a-9d2e-1f3a5c7e9b0d","c0ffee00-1234-4abc-8def-0123456789ab"],"#,
                r#""weights":[1,2.5,-3e8,null,true],"inherited":false}}}},"#,
                r#""comment":"Blocked by rule \"Ransomware – stage 2\"\nOwner: SOC\\Tier2 \u00e9\u4e2d","#,
                r#""tags":[{{"key":"severity","value":"high"}},{{"key":"mitre","value":"T1486"}}]}}"#
            ),
            graph_type = graph_type,
            identifier = identifier,
            isolation = isolation,
        ));
    }
    out.push(']');
    out
}
