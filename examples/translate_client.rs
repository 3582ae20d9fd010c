//! A Rust caller of the sidecar: writes an action as Graph JSON, reads it back, and shows a
//! located error. Start the server first (`cargo run --release -- serve`), then:
//!
//! ```sh
//! cargo run --example translate_client [http://127.0.0.1:50051]
//! ```
//!
//! A Rust service that would rather not run a sidecar can link `graphbridge-codec` and call the
//! same translations in process (see that crate's documentation).

use graphbridge::pb::{
    DeviceIdEntityIdentifier, FromGraphRequest, IsolateDeviceResponseAction, IsolationType, ResponseAction,
    ToGraphRequest, response_action::Action, translator_client::TranslatorClient,
};
use tonic_types::StatusExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:50051".to_owned());
    let mut translator = TranslatorClient::connect(address).await?;

    let isolate = IsolateDeviceResponseAction {
        identifier: vec![DeviceIdEntityIdentifier::DeviceId.into()],
        isolation_type: IsolationType::Full.into(),
    };
    let action = ResponseAction { action: Some(Action::IsolateDevice(isolate)), ..Default::default() };
    let written = translator.to_graph(ToGraphRequest { actions: vec![action], ..Default::default() }).await?;
    let json = written.into_inner().json;
    println!("Graph JSON: {json}");

    let read = translator.from_graph(FromGraphRequest { json, ..Default::default() }).await?.into_inner();
    println!("read back: {:?}", read.actions);

    // A caller's mistake is INVALID_ARGUMENT with every problem located in a BadRequest detail.
    let missing_type = ResponseAction {
        action: Some(Action::IsolateDevice(IsolateDeviceResponseAction::default())),
        ..Default::default()
    };
    let refused = translator.to_graph(ToGraphRequest { actions: vec![missing_type], ..Default::default() }).await;
    if let Err(status) = refused {
        println!("{:?}: {}", status.code(), status.message());
        for violation in status.get_details_bad_request().map(|bad| bad.field_violations).unwrap_or_default() {
            println!("  {}: {}", violation.field, violation.description);
        }
    }
    Ok(())
}
