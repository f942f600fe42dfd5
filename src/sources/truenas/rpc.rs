//! The JSON-RPC 2.0 framing TrueNAS speaks on `/api/current` (reference §4.1), pure: encoding a
//! request and classifying an incoming message as the response to an id, a notification (any
//! message with a `method`, skipped by the client) or something unusable.
//!
//! A response's `result` is kept as a borrowed [`RawValue`] so the caller decodes it straight into
//! its target type (or folds it, for snapshots) without building a JSON tree of the whole answer.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// JSON-RPC "method not found".
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Longest error text kept from an answer.
const MESSAGE_CHARS: usize = 300;

/// A request `{"jsonrpc": "2.0", "id": id, "method": method, "params": params}`.
pub fn encode_request(id: u64, method: &str, params: &Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// The `error` member of a response.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RpcError {
    /// The error code (`-32601` method not found, `-32001` middleware call error, …).
    #[serde(default, deserialize_with = "crate::sources::flex::i64")]
    pub code: Option<i64>,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// The middleware's details: `{error, errname, reason, trace}`.
    #[serde(default)]
    pub data: Option<Value>,
}

impl RpcError {
    /// The code, `0` when absent.
    pub fn code(&self) -> i64 {
        self.code.unwrap_or(0)
    }

    /// Whether the method does not exist on this release.
    pub fn is_method_not_found(&self) -> bool {
        self.code() == METHOD_NOT_FOUND
            || self.errname() == Some("ENOMETHOD")
            || self.message.contains("Method does not exist")
    }

    /// The middleware's `errname` (`EACCES`, `ENOENT`, …).
    pub fn errname(&self) -> Option<&str> {
        self.data.as_ref()?.get("errname")?.as_str()
    }

    /// The message with the middleware's reason when it adds one, capped in length.
    pub fn describe(&self) -> String {
        let reason = self
            .data
            .as_ref()
            .and_then(|d| d.get("reason"))
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty() && !self.message.contains(*r));
        let text = match reason {
            Some(reason) if self.message.is_empty() => reason.to_owned(),
            Some(reason) => format!("{}: {reason}", self.message),
            None if self.message.is_empty() => "no message".to_owned(),
            None => self.message.clone(),
        };
        truncate(&text)
    }
}

/// What an incoming message is.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// The answer to request `id`.
    Response {
        /// The request id it answers.
        id: u64,
        /// Its result (`None` for a `null` or absent result) or error.
        outcome: Result<Option<&'a RawValue>, RpcError>,
    },
    /// A notification (event, collection update): skipped.
    Notification,
    /// A response without a usable id (e.g. to an unparseable request), with its error if any.
    Unmatched(Option<RpcError>),
}

/// The members of a message that matter for routing.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    method: Option<serde::de::IgnoredAny>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<RpcError>,
}

/// Classifies one text message; the error is the JSON parse error.
pub fn parse_incoming(text: &str) -> Result<Incoming<'_>, serde_json::Error> {
    let message: Message<'_> = serde_json::from_str(text)?;
    if message.method.is_some() {
        return Ok(Incoming::Notification);
    }
    let id = message
        .id
        .and_then(|raw| match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Number(n)) => n.as_u64(),
            Ok(Value::String(s)) => s.parse().ok(),
            _ => None,
        });
    let Some(id) = id else {
        return Ok(Incoming::Unmatched(message.error));
    };
    let outcome = match message.error {
        Some(error) => Err(error),
        None => Ok(message.result.filter(|r| r.get() != "null")),
    };
    Ok(Incoming::Response { id, outcome })
}

/// Caps a message at [`MESSAGE_CHARS`] characters.
pub fn truncate(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_json_rpc_2() {
        let text = encode_request(7, "pool.query", &json!([]));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            value,
            json!({"jsonrpc": "2.0", "id": 7, "method": "pool.query", "params": []})
        );
    }

    #[test]
    fn classification() {
        match parse_incoming(r#"{"jsonrpc":"2.0","id":3,"result":[{"name":"tank"}]}"#) {
            Ok(Incoming::Response {
                id: 3,
                outcome: Ok(Some(raw)),
            }) => {
                assert_eq!(raw.get(), r#"[{"name":"tank"}]"#)
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            parse_incoming(r#"{"jsonrpc":"2.0","id":"4","result":null}"#),
            Ok(Incoming::Response {
                id: 4,
                outcome: Ok(None)
            })
        ));
        assert!(matches!(
            parse_incoming(
                r#"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed"}}"#
            ),
            Ok(Incoming::Notification)
        ));
        assert!(matches!(
            parse_incoming(
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
            ),
            Ok(Incoming::Unmatched(Some(_)))
        ));
        assert!(parse_incoming("not json").is_err());
        match parse_incoming(
            r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"Method does not exist"}}"#,
        ) {
            Ok(Incoming::Response {
                outcome: Err(e), ..
            }) => assert!(e.is_method_not_found()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_descriptions() {
        let e: RpcError = serde_json::from_value(json!({
            "code": -32001, "message": "Method call error",
            "data": {"error": 13, "errname": "EACCES", "reason": "Not authenticated"}
        }))
        .expect("error");
        assert_eq!(e.describe(), "Method call error: Not authenticated");
        assert_eq!(e.errname(), Some("EACCES"));
        assert!(!e.is_method_not_found());
        let long = RpcError {
            code: None,
            message: "x".repeat(500),
            data: None,
        };
        assert_eq!(long.describe().chars().count(), MESSAGE_CHARS + 1);
    }
}
