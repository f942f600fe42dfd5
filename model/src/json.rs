//! Helpers that keep JSON values in the model's canonical form.
//!
//! The canonical JSON of a resource has **no `null` object members anywhere**. RFC 7386
//! merge-patches use `null` to mean "remove this member", so a document with null members cannot
//! be reproduced exactly by a patch; pruning them on the way in keeps every diff exact. Arrays are
//! left alone: a merge-patch replaces arrays whole, so nulls inside them are harmless.

use serde::Serialize;
use serde_json::Value;

/// Converts a model value to JSON.
///
/// Model types serialise infallibly: every map key is a string and timestamps are clamped to the
/// range RFC 3339 can write. A failure would be a bug; it is caught in debug builds and yields
/// `null` in release builds rather than a panic in the registry.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Value {
    let result = serde_json::to_value(value);
    debug_assert!(result.is_ok(), "model value failed to serialise");
    result.unwrap_or(Value::Null)
}

/// Removes every object member whose value is `null`, recursively through nested objects.
///
/// Arrays are not descended into (they are always replaced whole). Returns `true` when the value
/// was itself `null`, so a caller holding it as a member knows to drop it.
pub fn prune_null_members(value: &mut Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => {
            if map.values().any(needs_pruning) {
                map.retain(|_, member| !prune_null_members(member));
            }
            false
        }
        _ => false,
    }
}

/// Whether a member value is `null` or holds a null member somewhere below it.
fn needs_pruning(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().any(needs_pruning),
        _ => false,
    }
}

/// Whether `value` is in canonical form: no null object members at any depth (outside arrays).
pub fn has_no_null_members(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().all(|v| !v.is_null() && has_no_null_members(v)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prunes_nested_null_members_but_not_array_items() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1, "e": {"f": null}}, "g": [null, {"h": null}]});
        assert!(!prune_null_members(&mut v));
        assert_eq!(v, json!({"b": {"d": 1, "e": {}}, "g": [null, {"h": null}]}));
        assert!(has_no_null_members(&v));
        assert!(prune_null_members(&mut Value::Null));
        assert!(!has_no_null_members(&json!({"x": {"y": null}})));
    }
}
