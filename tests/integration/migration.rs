//! MigrateRule over a real socket: each call answers exactly what the codec's translation of the
//! same request answers (crates/codec/tests/migrate_rule.rs tests what that is), refusals
//! included.

use graphbridge::pb::MigrateRuleRequest;
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::fixtures::rule_fixtures;

use crate::support::server::{TestServer, assert_served_as_translated};

/// Every fixture, the collection (refused) and the migrated ones included, compact and pretty;
/// and JSON the codec refuses.
#[tokio::test]
async fn migrate_rule_answers_what_the_codec_translates() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let documents = rule_fixtures().into_iter().map(|(_, json)| json).chain(["{\"isEnabled\": 1}".to_owned()]);
    for json in documents {
        for pretty in [false, true] {
            let request = MigrateRuleRequest { json: json.clone(), pretty, ..Default::default() };
            let served = client.migrate_rule(request.clone()).await.map(|r| r.into_inner());
            let translated = translate::migrate_rule(&Limits::UNBOUNDED, &request);
            assert_served_as_translated(served, translated, &format!("MigrateRule of {json}"));
        }
    }
    server.stop().await;
}
