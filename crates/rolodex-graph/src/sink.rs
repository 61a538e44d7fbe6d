//! `ContactSink` for Graph: `POST /contacts` (201), `PATCH /contacts/{id}` (200, conditional on
//! `If-Match` when a version is given), `DELETE /contacts/{id}` (204; 404 counts as done).

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::IF_MATCH;
use rolodex_domain::ContactFields;
use rolodex_domain::ports::{ContactSink, ProviderError, RemoteRef};
use serde_json::Value;

use crate::GraphContacts;
use crate::error::GraphFailure;
use crate::mapping::{graph_from_fields, remote_ref_from_graph};

async fn written(response: reqwest::Response) -> Result<RemoteRef, ProviderError> {
    if !response.status().is_success() {
        return Err(GraphFailure::read(response).await.into_error());
    }
    let body: Value = rolodex_http::json::read_json(response).await?;
    remote_ref_from_graph(&body)
}

/// `W/"{changeKey}"`: the etag Graph derives from a change key (an etag is passed through).
fn etag(version: &str) -> String {
    if version.starts_with("W/\"") || version.starts_with('"') {
        version.to_owned()
    } else {
        format!("W/\"{version}\"")
    }
}

#[async_trait]
impl ContactSink for GraphContacts {
    async fn create(&self, fields: &ContactFields) -> Result<RemoteRef, ProviderError> {
        let url = self.url(&["contacts"])?;
        let body = Value::Object(graph_from_fields(fields));
        written(self.conn.send(|c| c.post(url.clone()).json(&body)).await?).await
    }

    async fn update(
        &self,
        external_id: &str,
        expected_version: Option<&str>,
        fields: &ContactFields,
    ) -> Result<RemoteRef, ProviderError> {
        let url = self.item_url(external_id)?;
        let body = Value::Object(graph_from_fields(fields));
        let if_match = expected_version.map(etag);
        let response = self
            .conn
            .send(|c| {
                let request = c.patch(url.clone()).json(&body);
                match &if_match {
                    Some(tag) => request.header(IF_MATCH, tag.as_str()),
                    None => request,
                }
            })
            .await?;
        if response.status() == StatusCode::PRECONDITION_FAILED {
            return Err(ProviderError::Conflict { current_version: None });
        }
        written(response).await
    }

    async fn delete(&self, external_id: &str) -> Result<(), ProviderError> {
        let url = self.item_url(external_id)?;
        let response = self.conn.send(|c| c.delete(url.clone())).await?;
        match response.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            _ => Err(GraphFailure::read(response).await.into_error()),
        }
    }
}
