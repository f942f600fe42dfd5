//! JSON merge-patch (RFC 7386): computing a minimal patch between two documents and applying one.

use serde_json::{Map, Value};

/// The minimal RFC 7386 merge-patch turning `old` into `new`, or `None` when they are equal.
///
/// Only changed members appear; members missing from `new` appear as `null`; arrays and scalars
/// are replaced whole; nested objects are patched recursively. Exact (applying the patch to `old`
/// yields `new`) whenever `new` has no `null` object members — the model's canonical-JSON
/// invariant (see [`crate::json`]).
pub fn merge_patch_between(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(old_map), Value::Object(new_map)) => {
            object_patch(old_map, new_map).map(Value::Object)
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

/// Member-wise patch between two objects; `None` when equal.
pub(crate) fn object_patch(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    let mut patch = Map::new();
    for (key, old_value) in old {
        match new.get(key) {
            None => {
                patch.insert(key.clone(), Value::Null);
            }
            Some(new_value) => {
                if let Some(member) = merge_patch_between(old_value, new_value) {
                    patch.insert(key.clone(), member);
                }
            }
        }
    }
    for (key, new_value) in new {
        if !old.contains_key(key) {
            patch.insert(key.clone(), new_value.clone());
        }
    }
    (!patch.is_empty()).then_some(patch)
}

/// Applies an RFC 7386 merge-patch to `target` in place (the algorithm of RFC 7386 §2).
pub fn apply_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                apply_merge_patch(target_map.entry(key.as_str()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7386 Appendix A, every row: (original, patch, result).
    fn appendix_a() -> Vec<(Value, Value, Value)> {
        vec![
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ]
    }

    #[test]
    fn rfc7386_appendix_a_apply() {
        for (original, patch, result) in appendix_a() {
            let mut doc = original.clone();
            apply_merge_patch(&mut doc, &patch);
            assert_eq!(doc, result, "{original} + {patch}");
        }
    }

    #[test]
    fn rfc7386_appendix_a_roundtrip() {
        // For every row whose result has no null members, our own patch reproduces it.
        for (original, _, result) in appendix_a() {
            if !crate::json::has_no_null_members(&result) {
                continue;
            }
            let mut doc = original.clone();
            if let Some(patch) = merge_patch_between(&original, &result) {
                apply_merge_patch(&mut doc, &patch);
            }
            assert_eq!(doc, result, "{original} -> {result}");
        }
    }

    #[test]
    fn patches_are_minimal() {
        let old = json!({"a": 1, "b": {"c": 2, "d": [1, 2], "e": "x"}, "f": true});
        let new = json!({"a": 1, "b": {"c": 3, "d": [1, 2]}, "g": {}});
        assert_eq!(
            merge_patch_between(&old, &new),
            Some(json!({"b": {"c": 3, "e": null}, "f": null, "g": {}}))
        );
        assert_eq!(merge_patch_between(&old, &old), None);
        assert_eq!(merge_patch_between(&json!(1), &json!(2)), Some(json!(2)));
        assert_eq!(
            merge_patch_between(&json!({"a": 1}), &json!(null)),
            Some(json!(null))
        );
        assert_eq!(
            merge_patch_between(&json!([1]), &json!({"a": {}})),
            Some(json!({"a": {}}))
        );
    }
}
