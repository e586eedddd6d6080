//! PaymentMethods carried inside other listed objects. `GET /v1/payment_methods` without `customer` lists only
//! Treasury PaymentMethods per Stripe's spec, so the import reaches the others through the objects that name them:
//! an intent's `payment_method` (expanded on the ranged, parallel intent listings at no extra request), the
//! PaymentMethod Stripe always embeds in `last_payment_error`, a customer's expanded default.

use serde_json::Value;

use crate::store::RawObject;

/// Where a listed object may carry a PaymentMethod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedPaymentMethod {
    /// The JSON path of the field, from the listed object.
    pub path: &'static [&'static str],
    /// Whether the object is there only because the import expands it: then the stored object gets the id back in
    /// that field, as Stripe sends it unexpanded (and as webhooks carry it), so stored objects do not depend on
    /// how they were fetched. Fields Stripe always embeds (`last_payment_error.payment_method`) stay as they are.
    pub expanded: bool,
}

/// The PaymentMethods found in one listed object.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The object's JSON to store, when an expanded field was put back to its id; `None` = store it as received.
    pub json: Option<String>,
    /// The PaymentMethods found, as raw objects of type `payment_method`.
    pub payment_methods: Vec<RawObject>,
}

/// Takes the PaymentMethods out of `json` at `fields`. `version` is the fetch time, as for listed objects: a
/// PaymentMethod seen inside a later page replaces one seen earlier, never the other way round.
pub fn extract_payment_methods(
    json: &str,
    fields: &[EmbeddedPaymentMethod],
    version: i64,
) -> Result<Extracted, serde_json::Error> {
    let mut extracted = Extracted::default();
    if fields.is_empty() {
        return Ok(extracted);
    }
    let mut object: Value = serde_json::from_str(json)?;
    let mut collapsed = false;
    for field in fields {
        let Some(slot) = pointer_mut(&mut object, field.path) else {
            continue;
        };
        let Some(id) = slot
            .get("id")
            .and_then(Value::as_str)
            .filter(|_| slot.get("object").and_then(Value::as_str) == Some("payment_method"))
            .map(str::to_owned)
        else {
            continue;
        };
        extracted.payment_methods.push(RawObject {
            object_type: "payment_method".into(),
            created: slot.get("created").and_then(Value::as_i64).unwrap_or(0),
            version,
            deleted: false,
            json: slot.to_string(),
            id: id.clone(),
        });
        if field.expanded {
            *slot = Value::String(id);
            collapsed = true;
        }
    }
    if collapsed {
        extracted.json = Some(object.to_string());
    }
    Ok(extracted)
}

fn pointer_mut<'a>(mut value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    for key in path {
        value = value.get_mut(*key)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[EmbeddedPaymentMethod] = &[
        EmbeddedPaymentMethod {
            path: &["payment_method"],
            expanded: true,
        },
        EmbeddedPaymentMethod {
            path: &["last_payment_error", "payment_method"],
            expanded: false,
        },
    ];

    #[test]
    fn an_expanded_payment_method_is_taken_out_and_its_id_put_back() {
        let pi = r#"{"id":"pi_1","object":"payment_intent","created":5,"payment_method":{"id":"pm_1","object":"payment_method","created":4,"card":{"brand":"visa"}},"last_payment_error":null}"#;
        let found = extract_payment_methods(pi, FIELDS, 99).unwrap();
        assert_eq!(found.payment_methods.len(), 1);
        let pm = &found.payment_methods[0];
        assert_eq!(
            (
                pm.object_type.as_str(),
                pm.id.as_str(),
                pm.created,
                pm.version
            ),
            ("payment_method", "pm_1", 4, 99)
        );
        let pm_json: Value = serde_json::from_str(&pm.json).unwrap();
        assert_eq!(pm_json["card"]["brand"], "visa");
        let stored: Value = serde_json::from_str(found.json.as_deref().unwrap()).unwrap();
        assert_eq!(stored["payment_method"], "pm_1");
        assert_eq!(stored["created"], 5);
    }

    #[test]
    fn an_embedded_error_payment_method_is_copied_and_the_object_kept_as_received() {
        let pi = r#"{"id":"pi_2","object":"payment_intent","payment_method":null,"last_payment_error":{"code":"card_declined","payment_method":{"id":"pm_2","object":"payment_method","created":7}}}"#;
        let found = extract_payment_methods(pi, FIELDS, 1).unwrap();
        assert_eq!(found.payment_methods[0].id, "pm_2");
        assert!(found.json.is_none(), "nothing to put back");
    }

    #[test]
    fn ids_nulls_and_missing_fields_yield_nothing() {
        for pi in [
            r#"{"id":"pi_3","payment_method":"pm_3"}"#,
            r#"{"id":"pi_3","payment_method":null}"#,
            r#"{"id":"pi_3"}"#,
            r#"{"id":"pi_3","payment_method":{"id":"src_1","object":"source"}}"#,
        ] {
            let found = extract_payment_methods(pi, FIELDS, 1).unwrap();
            assert!(
                found.payment_methods.is_empty() && found.json.is_none(),
                "{pi}"
            );
        }
        assert!(extract_payment_methods("not json", FIELDS, 1).is_err());
        assert!(extract_payment_methods("not json", &[], 1).is_ok());
    }
}
