//! What every operation can answer besides its own results, added to the OpenAPI document in
//! one place so that it stays the truth as routes are added: the extractors and layers that sit
//! in front of every handler refuse the same way everywhere (problem+json).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Ref, RefOr};

pub const PROBLEM_JSON: &str = "application/problem+json";

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Adds the answers the shared machinery gives to every operation that does not list them.
pub struct CommonResponses;

impl CommonResponses {
    fn complete(operation: &mut Operation, has_path_params: bool) {
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        let has_body = operation.request_body.is_some();
        let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let mut add = |status: &str, description: &str| {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| problem(description));
        };
        add(
            "429",
            "Too many requests from this key or address; wait as long as Retry-After says",
        );
        if secured {
            add("401", "No valid API key");
            add(
                "403",
                "The policy does not allow this role the action, the purpose or the categories",
            );
        }
        if has_body {
            add("400", "The body is not JSON of the expected shape");
            add("413", "The body is too large");
            add("415", "The body is not sent as application/json");
            add("422", "A value is out of range or unknown");
        }
        if has_params || has_path_params {
            add("400", "A query parameter or header is malformed");
            add("422", "A parameter's value is out of range or unknown");
        }
        if has_path_params {
            add("404", "Nothing has this id");
        }
        if secured {
            add(
                "507",
                "The server's storage is full; nothing was changed, retry later",
            );
            add(
                "503",
                "The database is unavailable or gone; nothing was changed (see /readyz)",
            );
        }
        // OpenAPI requires a description on every response.
        for (status, response) in operation.responses.responses.iter_mut() {
            if let RefOr::T(r) = response
                && r.description.is_empty()
            {
                r.description = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Response")
                    .to_string();
            }
        }
    }
}

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                Self::complete(operation, has_path_params);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa::OpenApi;

    fn document() -> Value {
        serde_json::to_value(crate::api::ApiDoc::openapi()).unwrap()
    }

    /// A schema says what it holds: a named component, a list of them, or plain text/bytes.
    fn is_typed(schema: &Value) -> bool {
        if schema.get("$ref").is_some() {
            return true;
        }
        match schema["type"].as_str() {
            Some("array") => is_typed(&schema["items"]),
            Some("object") => schema.get("properties").is_some(),
            Some(_) => true,
            None => false,
        }
    }

    /// Every JSON body the API takes or gives, in every operation, in `(where, schema)` pairs.
    fn json_bodies(doc: &Value) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let mut contents = vec![("request".to_string(), &op["requestBody"]["content"])];
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    contents.push((status.clone(), &response["content"]));
                }
                for (what, content) in contents {
                    for (media, body) in content.as_object().into_iter().flatten() {
                        if media.contains("json") {
                            let at = format!("{method} {path} {what} {media}");
                            out.push((at, body["schema"].clone()));
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_json_body_in_the_document_is_typed() {
        let doc = document();
        let bodies = json_bodies(&doc);
        assert!(bodies.len() > 100, "only {} bodies found", bodies.len());
        let untyped: Vec<_> = bodies.iter().filter(|(_, s)| !is_typed(s)).collect();
        assert!(untyped.is_empty(), "untyped bodies: {untyped:#?}");
    }

    #[test]
    fn problems_list_every_error_code() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["Problem"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
        let listed: Vec<&str> = (schemas["ErrorCode"]["enum"].as_array().unwrap().iter())
            .filter_map(Value::as_str)
            .collect();
        let all: Vec<&str> = mamori_proto::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(listed, all);
    }
}
