//! ToGraph and FromGraph over a real socket with the generated client: each call answers exactly
//! what the codec's translation of the same request answers (crates/codec/tests/translate_actions.rs
//! tests what that is), under every policy, compact and pretty.

use graphbridge::pb::{FromGraphRequest, ToGraphRequest, UnknownDataPolicy};
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::ISOLATE;

use crate::support::server::{TestServer, assert_served_as_translated};

#[tokio::test]
async fn the_unary_calls_answer_what_the_codec_translates() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let limits = Limits::UNBOUNDED;
    // A known action with unknown data, an unknown type, a null and an empty collection.
    let graph = format!(
        r##"[{ISOLATE},
        {{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId,macAddress","isolationType":"full","x":{{"a":[1,2.50]}},"y":null}},
        {{"@odata.type":"#microsoft.graph.security.quarantineEverythingResponseAction","identifier":"everything"}},
        {{"@odata.type":"#microsoft.graph.security.allowFileResponseAction","deviceGroupNames":[],"identifier":"sha1"}}]"##
    );
    for json in [ISOLATE.to_owned(), format!("[{ISOLATE}]"), graph] {
        for policy in [UnknownDataPolicy::Preserve, UnknownDataPolicy::Drop, UnknownDataPolicy::Reject] {
            let request = FromGraphRequest { json: json.clone(), unknown_data_policy: policy.into() };
            let served = client.from_graph(request.clone()).await.map(|r| r.into_inner());
            let translated = translate::from_graph(&limits, &request);
            assert_served_as_translated(served, translated.clone(), &format!("FromGraph {policy:?} of {json}"));
            let Ok(read) = translated else { continue };
            for pretty in [false, true] {
                let request =
                    ToGraphRequest { actions: read.actions.clone(), pretty, unknown_data_policy: policy.into() };
                let served = client.to_graph(request.clone()).await.map(|r| r.into_inner());
                let what = format!("ToGraph {policy:?}, pretty {pretty}, of {json}");
                assert_served_as_translated(served, translate::to_graph(&limits, &request), &what);
            }
        }
    }
    server.stop().await;
}
