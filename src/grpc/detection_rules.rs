//! The `graphbridge.v1.DetectionRuleService` gRPC service: each call is one operation of the
//! Graph client, within the caller's deadline, counted in the metrics, its error mapped in
//! [`super::status`].

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use prost::Message;
use tonic::{Request, Response, Status};

use super::status::answered;
use crate::{
    graph::{DetectionRules, GatewayError},
    pb::{
        CreateDetectionRuleRequest, DeleteDetectionRuleRequest, DetectionRule, GetDetectionRuleRequest,
        ListDetectionRulesRequest, ListDetectionRulesResponse, UpdateDetectionRuleRequest,
        detection_rule_service_server::{self, DetectionRuleServiceServer},
    },
    server::metrics::Metrics,
};

/// The gateway service. Cheap to clone: clones share the Graph client.
#[derive(Clone)]
pub(crate) struct DetectionRuleGateway {
    rules: Arc<DetectionRules>,
    metrics: Arc<Metrics>,
}

impl DetectionRuleGateway {
    pub(crate) fn new(rules: DetectionRules, metrics: Arc<Metrics>) -> Self {
        DetectionRuleGateway { rules: Arc::new(rules), metrics }
    }

    pub(crate) fn into_server(self, max_message_bytes: usize) -> DetectionRuleServiceServer<Self> {
        DetectionRuleServiceServer::new(self)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    }

    /// Runs one operation: metrics, and the status of its error.
    async fn call<T: Message>(
        &self,
        method: &'static str,
        request_bytes: usize,
        operation: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<Response<T>, Status> {
        let call = self.metrics.start(method, request_bytes);
        answered(call, operation.await)
    }
}

/// How long before the caller's deadline a call gives up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(20);

/// When the caller stops waiting: its `grpc-timeout` (the gRPC deadline), if it sent one.
fn deadline<T>(request: &Request<T>) -> Option<Instant> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok().filter(|_| digits.len() <= 8)?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    // A little early: tonic's own deadline layer answers CANCELLED at the deadline itself, and
    // the caller should get this service's DEADLINE_EXCEEDED (or the error that ended the wait).
    Instant::now().checked_add(timeout.saturating_sub(DEADLINE_MARGIN))
}

#[tonic::async_trait]
impl detection_rule_service_server::DetectionRuleService for DetectionRuleGateway {
    async fn create_detection_rule(
        &self,
        request: Request<CreateDetectionRuleRequest>,
    ) -> Result<Response<DetectionRule>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let bytes = request.encoded_len();
        self.call("CreateDetectionRule", bytes, self.rules.create(request.rule, deadline)).await
    }

    async fn get_detection_rule(
        &self,
        request: Request<GetDetectionRuleRequest>,
    ) -> Result<Response<DetectionRule>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        self.call("GetDetectionRule", request.encoded_len(), self.rules.get(&request.id, deadline)).await
    }

    async fn list_detection_rules(
        &self,
        request: Request<ListDetectionRulesRequest>,
    ) -> Result<Response<ListDetectionRulesResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let page = async {
            let page = self.rules.list(request.page_size, &request.page_token, &request.filter, deadline).await?;
            Ok(ListDetectionRulesResponse { rules: page.rules, next_page_token: page.next_page_token })
        };
        self.call("ListDetectionRules", request.encoded_len(), page).await
    }

    async fn update_detection_rule(
        &self,
        request: Request<UpdateDetectionRuleRequest>,
    ) -> Result<Response<DetectionRule>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let bytes = request.encoded_len();
        self.call("UpdateDetectionRule", bytes, self.rules.update(request.rule, request.update_mask, deadline)).await
    }

    async fn delete_detection_rule(
        &self,
        request: Request<DeleteDetectionRuleRequest>,
    ) -> Result<Response<()>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        self.call("DeleteDetectionRule", request.encoded_len(), self.rules.delete(&request.id, deadline)).await
    }
}
