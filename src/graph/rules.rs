//! The detection rule operations: the Graph request of each, its body written and its answer
//! read by the codec exactly as `RuleToGraph` and `RuleFromGraph` do.

use std::{sync::Arc, time::Instant};

use bytes::Bytes;
use graphbridge_codec::{
    pb::{DetectionRule, RuleFromGraphRequest, RuleToGraphRequest, UnknownDataPolicy},
    translate::{self, Limits, Reported},
};
use hyper::{Method, StatusCode, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use prost_types::FieldMask;

use super::{
    client::{GraphClient, GraphRequest},
    error::{GatewayError, Operation},
    http::Answer,
    page_token::PageTokens,
};
use crate::server::metrics::Metrics;

/// The collection, under --graph-url.
const COLLECTION: &str = "/security/rules/detectionRules";
/// `$top` when the caller gives no page size, and the most asked for: a page of whole rules
/// (~2 KB each) stays far below the default message limit.
const DEFAULT_PAGE_SIZE: i32 = 100;
const MAX_PAGE_SIZE: i32 = 500;

/// Characters left as they are in a path segment or query value: RFC 3986's unreserved set.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub(crate) struct DetectionRules {
    client: GraphClient,
    pages: PageTokens,
    limits: Limits,
    read_only: bool,
    metrics: Arc<Metrics>,
}

/// One page of rules, and the token of the next (empty on the last page).
pub(crate) struct Page {
    pub rules: Vec<DetectionRule>,
    pub next_page_token: String,
}

impl DetectionRules {
    pub(crate) fn new(
        client: GraphClient,
        pages: PageTokens,
        limits: Limits,
        read_only: bool,
        metrics: Arc<Metrics>,
    ) -> Self {
        DetectionRules { client, pages, limits, read_only, metrics }
    }

    pub(crate) async fn create(
        &self,
        rule: Option<DetectionRule>,
        deadline: Option<Instant>,
    ) -> Result<DetectionRule, GatewayError> {
        self.writable("CreateDetectionRule")?;
        let rule = rule.ok_or_else(|| required("rule", "the detection rule to create"))?;
        let body = self.body(rule, None)?;
        let request = GraphRequest {
            method: Method::POST,
            url: self.collection(),
            body: Some(body),
            operation: Operation::Create,
        };
        let answer = self.client.send(&request, deadline).await?;
        self.read_rule(&answer)
    }

    pub(crate) async fn get(&self, id: &str, deadline: Option<Instant>) -> Result<DetectionRule, GatewayError> {
        self.configured()?;
        let request =
            GraphRequest { method: Method::GET, url: self.item(id, "id")?, body: None, operation: Operation::Get };
        let answer = self.client.send(&request, deadline).await?;
        self.read_rule(&answer)
    }

    pub(crate) async fn list(
        &self,
        page_size: i32,
        page_token: &str,
        filter: &str,
        deadline: Option<Instant>,
    ) -> Result<Page, GatewayError> {
        self.configured()?;
        let url = if page_token.is_empty() {
            let top = match page_size {
                ..0 => {
                    return Err(GatewayError::BadRequest {
                        field: "page_size",
                        description: "must not be negative".into(),
                    });
                }
                0 => DEFAULT_PAGE_SIZE,
                n => n.min(MAX_PAGE_SIZE),
            };
            let mut url = format!("{}?$top={top}", self.collection());
            if !filter.is_empty() {
                url.push_str(&format!("&$filter={}", utf8_percent_encode(filter, UNRESERVED)));
            }
            url
        } else {
            // The link Graph gave for the next page, as sealed: it carries its own $top.
            let link = self.pages.open(page_token, filter)?;
            let path_and_query = self.within_collection(&link).ok_or(GatewayError::ForeignNextLink)?;
            format!("{}{path_and_query}", self.client.graph_url().origin())
        };
        let request = GraphRequest { method: Method::GET, url, body: None, operation: Operation::List };
        let answer = self.client.send(&request, deadline).await?;
        let read = self.read(&answer)?;
        if !read.collection {
            return Err(unreadable(&answer, "expected a collection of detectionRule"));
        }
        let next_page_token = if read.next_link.is_empty() {
            String::new()
        } else {
            let path_and_query = self.within_collection(&read.next_link).ok_or(GatewayError::ForeignNextLink)?;
            self.pages.seal(&path_and_query, filter)
        };
        Ok(Page { rules: read.rules, next_page_token })
    }

    pub(crate) async fn update(
        &self,
        rule: Option<DetectionRule>,
        update_mask: Option<FieldMask>,
        deadline: Option<Instant>,
    ) -> Result<DetectionRule, GatewayError> {
        self.writable("UpdateDetectionRule")?;
        let rule = rule.ok_or_else(|| required("rule", "the rule to change, with its id"))?;
        let mask = update_mask.ok_or_else(|| required("update_mask", "the fields to change"))?;
        let id = rule.id.clone();
        let url = self.item(&id, "rule.id")?;
        let body = self.body(rule, Some(mask))?;
        let request = GraphRequest { method: Method::PATCH, url, body: Some(body), operation: Operation::Update };
        let answer = self.client.send(&request, deadline).await?;
        if answer.status == StatusCode::NO_CONTENT {
            // Graph documents 200 with the whole entity; should it answer 204 as many Graph
            // APIs do, the caller still gets the rule as it now is.
            return self.get(&id, deadline).await;
        }
        self.read_rule(&answer)
    }

    pub(crate) async fn delete(&self, id: &str, deadline: Option<Instant>) -> Result<(), GatewayError> {
        self.writable("DeleteDetectionRule")?;
        let request = GraphRequest {
            method: Method::DELETE,
            url: self.item(id, "id")?,
            body: None,
            operation: Operation::Delete,
        };
        self.client.send(&request, deadline).await.map(drop)
    }

    fn configured(&self) -> Result<(), GatewayError> {
        if self.client.is_configured() { Ok(()) } else { Err(GatewayError::NotConfigured) }
    }

    fn writable(&self, method: &'static str) -> Result<(), GatewayError> {
        self.configured()?;
        if self.read_only { Err(GatewayError::ReadOnly { method }) } else { Ok(()) }
    }

    fn collection(&self) -> String {
        self.client.graph_url().join(COLLECTION)
    }

    /// The URL of the rule `id`, one encoded path segment whatever it holds.
    fn item(&self, id: &str, field: &'static str) -> Result<String, GatewayError> {
        if id.is_empty() {
            return Err(required(field, "the rule's id"));
        }
        Ok(format!("{}/{}", self.collection(), utf8_percent_encode(id, UNRESERVED)))
    }

    /// `link`'s path and query if it is the collection under --graph-url (same origin, same path);
    /// anything else is never requested.
    fn within_collection(&self, link: &str) -> Option<String> {
        let path_and_query = match link.strip_prefix(self.client.graph_url().origin()) {
            Some(rest) => rest,
            None if link.starts_with('/') => link,
            None => return None,
        };
        let collection = format!("{}{COLLECTION}", self.client.graph_url().path());
        let rest = path_and_query.strip_prefix(&collection)?;
        let valid = (rest.is_empty() || rest.starts_with('?')) && path_and_query.parse::<Uri>().is_ok();
        valid.then(|| path_and_query.to_owned())
    }

    /// The rule as JSON: a POST body, or a PATCH body of the masked fields.
    fn body(&self, rule: DetectionRule, update_mask: Option<FieldMask>) -> Result<Bytes, GatewayError> {
        let request = RuleToGraphRequest {
            rule: Some(rule),
            update_mask,
            pretty: false,
            unknown_data_policy: UnknownDataPolicy::Preserve.into(),
        };
        let written = translate::rule_to_graph(&self.limits, &request).map_err(GatewayError::Write)?;
        Ok(Bytes::from(written.json))
    }

    fn read_rule(&self, answer: &Answer) -> Result<DetectionRule, GatewayError> {
        let read = self.read(answer)?;
        match (read.collection, <[DetectionRule; 1]>::try_from(read.rules)) {
            (false, Ok([rule])) => Ok(rule),
            _ => Err(unreadable(answer, "expected one detectionRule")),
        }
    }

    /// Graph's answer read as RuleFromGraph reads it: unknown data kept and counted.
    fn read(&self, answer: &Answer) -> Result<graphbridge_codec::pb::RuleFromGraphResponse, GatewayError> {
        let json = std::str::from_utf8(&answer.body).map_err(|_| unreadable(answer, "not UTF-8"))?;
        let request =
            RuleFromGraphRequest { json: json.to_owned(), unknown_data_policy: UnknownDataPolicy::Preserve.into() };
        let read = translate::rule_from_graph(&self.limits, &request)
            .map_err(|error| unreadable(answer, &error.to_string()))?;
        self.metrics.unknown_data(read.unknown_data());
        Ok(read)
    }
}

fn required(field: &'static str, what: &str) -> GatewayError {
    GatewayError::BadRequest { field, description: format!("required: {what}") }
}

fn unreadable(answer: &Answer, reason: &str) -> GatewayError {
    let request_id = answer.header("request-id").unwrap_or_default().to_owned();
    GatewayError::UnreadableAnswer { reason: reason.to_owned(), request_id }
}
