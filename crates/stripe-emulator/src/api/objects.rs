//! List and retrieve endpoints of the ledger's object types, plus `GET /v1/balance`, `GET /v1/account`, the
//! unpaginated report-type list, and the id-only `GET /v1/tokens/{id}` / `GET /v1/sources/{id}`.

use axum::response::Response;
use serde_json::{Value, json};

use crate::api::{json_response, list_envelope};
use crate::api_error::ApiError;
use crate::data::{Ledger, ObjectType};
use crate::gate::Caller;
use crate::pagination::{LIST_PARAMS, ListRequest, Listing, select};
use crate::params::Params;

/// The restricted-key permission that reads `ty` (the contract table in the crate README).
pub fn read_permission(ty: ObjectType) -> &'static str {
    match ty {
        ObjectType::Charge | ObjectType::Refund => "charge_read",
        ObjectType::PaymentIntent => "payment_intent_read",
        ObjectType::Dispute => "dispute_read",
        ObjectType::BalanceTransaction => "balance_read",
        ObjectType::Payout => "payout_read",
        ObjectType::Customer => "customer_read",
        ObjectType::PaymentMethod => "payment_method_read",
        ObjectType::SetupIntent => "setup_intent_read",
        ObjectType::Product => "product_read",
        ObjectType::Subscription => "subscription_read",
        ObjectType::CreditNote => "credit_note_read",
        ObjectType::File => "file_read",
        ObjectType::ReportType | ObjectType::ReportRun => "report_runs_and_report_types_read",
    }
}

/// Whether the list endpoint of `ty` takes a `created` filter (Stripe: all but payment methods and report types).
fn has_created_filter(ty: ObjectType) -> bool {
    !matches!(ty, ObjectType::PaymentMethod | ObjectType::ReportType)
}

/// Stripe's noun in "No such …" messages.
fn noun(ty: ObjectType) -> &'static str {
    match ty {
        // Stripe names this one in CamelCase in its resource_missing message.
        ObjectType::PaymentMethod => "PaymentMethod",
        other => other.object_name(),
    }
}

/// Expanding a balance transaction's `source` needs `balance_transaction_source_read` (our documented choice for
/// the unverified behaviour: a 403 naming it); expanding a PaymentMethod (an intent's `payment_method`, a
/// customer's `invoice_settings.default_payment_method`) needs `payment_method_read`, as Stripe asks the permission
/// of every expanded object.
fn check_expand_permission(
    caller: &Caller,
    ty: ObjectType,
    expand: &[String],
) -> Result<(), ApiError> {
    let expands = |field: &str| {
        expand
            .iter()
            .any(|e| e == field || e.strip_prefix(field).is_some_and(|r| r.starts_with('.')))
    };
    if ty == ObjectType::BalanceTransaction && expands("source") {
        caller.require("balance_transaction_source_read")?;
    }
    let payment_method_field = match ty {
        ObjectType::PaymentIntent | ObjectType::SetupIntent => Some("payment_method"),
        ObjectType::Customer => Some("invoice_settings.default_payment_method"),
        _ => None,
    };
    if payment_method_field.is_some_and(expands) {
        caller.require("payment_method_read")?;
    }
    Ok(())
}

/// The list's `expand[]` entries relative to each object: `data.x` → `x`; a path without `data.` is refused as
/// Stripe does.
fn list_expand(params: &Params) -> Result<Vec<String>, ApiError> {
    params
        .array("expand")
        .into_iter()
        .map(|path| match path.strip_prefix("data.") {
            Some(inner) => Ok(inner.to_string()),
            None => Err(ApiError::InvalidRequest {
                message: format!(
                    "This property cannot be expanded ({path}). You may want to try expanding 'data.{path}' instead."
                ),
                param: None,
                code: None,
            }),
        })
        .collect()
}

/// The ledger's objects of one type, newest first, with the request's filters.
struct LedgerListing<'a> {
    ledger: &'a Ledger,
    ty: ObjectType,
    order: &'a [u32],
    filters: Vec<(&'a str, &'a str)>,
}

impl Listing for LedgerListing<'_> {
    fn len(&self) -> usize {
        self.order.len()
    }

    fn created_at(&self, pos: usize) -> i64 {
        self.ledger.created(self.ty, self.order[pos])
    }

    fn position_of(&self, id: &str) -> Option<usize> {
        let handle = self.ledger.lookup(self.ty, id)?;
        let created = self.ledger.created(self.ty, handle);
        let first = self
            .order
            .partition_point(|&h| self.ledger.created(self.ty, h) > created);
        self.order[first..]
            .iter()
            .take_while(|&&h| self.ledger.created(self.ty, h) == created)
            .position(|&h| h == handle)
            .map(|offset| first + offset)
    }

    fn matches(&self, pos: usize) -> bool {
        let handle = self.order[pos];
        self.filters
            .iter()
            .all(|(filter, value)| self.ledger.field_matches(self.ty, handle, filter, value))
    }
}

/// `GET /v1/<objects>`.
pub async fn list(
    caller: Caller,
    ty: ObjectType,
    query: Option<String>,
) -> Result<Response, ApiError> {
    list_of(caller, ty, query, None)
}

/// `GET /v1/customers/{id}/payment_methods`: the customer's PaymentMethods, as `GET /v1/payment_methods?customer=`
/// lists them. Our documented choice for the unverified permission: `payment_method_read` alone (the facts file
/// says it may also need `customer_read`).
pub async fn list_customer_payment_methods(
    caller: Caller,
    customer: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    caller.require(read_permission(ObjectType::PaymentMethod))?;
    let known = caller
        .account
        .ledger
        .read()
        .expect("ledger lock poisoned")
        .lookup(ObjectType::Customer, &customer)
        .is_some();
    if !known {
        return Err(ApiError::NoSuchObject {
            noun: noun(ObjectType::Customer),
            id: customer,
            param: "customer".into(),
        });
    }
    if Params::from_query(query.as_deref())
        .get("customer")
        .is_some()
    {
        return Err(ApiError::InvalidRequest {
            message: "Received unknown parameter: customer".into(),
            param: Some("customer".into()),
            code: None,
        });
    }
    let url = format!("/v1/customers/{customer}/payment_methods");
    list_of(
        caller,
        ObjectType::PaymentMethod,
        query,
        Some((customer, url)),
    )
}

/// A list of `ty`; `customer` (an id and the list's url) scopes a PaymentMethod list to one customer.
fn list_of(
    caller: Caller,
    ty: ObjectType,
    query: Option<String>,
    customer: Option<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(read_permission(ty))?;
    let params = Params::from_query(query.as_deref());
    let filters = Ledger::filters(ty);
    let mut allowed: Vec<&str> = LIST_PARAMS.to_vec();
    if has_created_filter(ty) {
        allowed.push("created");
    }
    allowed.extend_from_slice(filters);
    params.reject_unknown(&allowed)?;
    let expand = list_expand(&params)?;
    check_expand_permission(&caller, ty, &expand)?;
    let request = ListRequest::from_params(&params, has_created_filter(ty))?;
    let mut filter_values: Vec<(&str, &str)> = filters
        .iter()
        .filter_map(|f| params.get(f).map(|v| (*f, v)))
        .collect();
    if ty == ObjectType::Subscription && params.get("status").is_none() {
        // Stripe's default subscription list leaves out canceled ones; the ledger reads "" as that default.
        filter_values.push(("status", ""));
    }
    if let Some((id, _)) = &customer {
        filter_values.push(("customer", id.as_str()));
    }
    let url = customer
        .as_ref()
        .map_or(ty.list_path(), |(_, url)| url.as_str());
    if ty == ObjectType::PaymentMethod
        && customer.is_none()
        && params.get("customer").is_none()
        && !caller.account.payment_methods_list_all()
    {
        // The spec: without `customer` this lists PaymentMethods "for Treasury flows"; the emulator has none.
        return Ok(json_response(&list_envelope(url, Vec::new(), false)));
    }

    let ledger = caller.account.ledger.read().expect("ledger lock poisoned");
    let listing = LedgerListing {
        ledger: &ledger,
        ty,
        order: ledger.newest_first(ty),
        filters: filter_values,
    };
    let page = select(&listing, &request, noun(ty))?;
    let options = caller.account.render_options(caller.mode(), &expand);
    let data = page
        .positions
        .iter()
        .map(|&pos| versioned(ledger.render(ty, listing.order[pos], &options), &caller))
        .collect();
    Ok(json_response(&list_envelope(url, data, page.has_more)))
}

/// `GET /v1/<objects>/{id}`.
pub async fn retrieve(
    caller: Caller,
    ty: ObjectType,
    id: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    caller.require(read_permission(ty))?;
    let params = Params::from_query(query.as_deref());
    params.reject_unknown(&["expand"])?;
    let expand: Vec<String> = params
        .array("expand")
        .into_iter()
        .map(str::to_string)
        .collect();
    check_expand_permission(&caller, ty, &expand)?;
    let ledger = caller.account.ledger.read().expect("ledger lock poisoned");
    let handle = ledger
        .lookup(ty, &id)
        .ok_or_else(|| ApiError::NoSuchObject {
            noun: noun(ty),
            id: id.clone(),
            param: "id".into(),
        })?;
    let options = caller.account.render_options(caller.mode(), &expand);
    Ok(json_response(&versioned(
        ledger.render(ty, handle, &options),
        &caller,
    )))
}

/// `GET /v1/reporting/report_types`: the full catalogue, not paginated.
pub async fn list_report_types(
    caller: Caller,
    query: Option<String>,
) -> Result<Response, ApiError> {
    let ty = ObjectType::ReportType;
    caller.require(read_permission(ty))?;
    let params = Params::from_query(query.as_deref());
    params.reject_unknown(&["expand"])?;
    let ledger = caller.account.ledger.read().expect("ledger lock poisoned");
    let options = caller.account.render_options(caller.mode(), &[]);
    let data = ledger
        .newest_first(ty)
        .iter()
        .map(|&h| versioned(ledger.render(ty, h, &options), &caller))
        .collect();
    Ok(json_response(&list_envelope(ty.list_path(), data, false)))
}

/// `GET /v1/balance`: available and pending funds per currency, from the ledger's balance transactions.
pub async fn balance(caller: Caller, query: Option<String>) -> Result<Response, ApiError> {
    caller.require("balance_read")?;
    Params::from_query(query.as_deref()).reject_unknown(&["expand"])?;
    let sums = caller
        .account
        .ledger
        .read()
        .expect("ledger lock poisoned")
        .balance();
    let entries = |pick: fn(i64, i64) -> i64| -> Vec<Value> {
        sums.iter()
            .map(|&(currency, available, pending)| {
                let amount = pick(available, pending);
                json!({ "amount": amount, "currency": currency, "source_types": { "card": amount } })
            })
            .collect()
    };
    let reserved: Vec<Value> = sums
        .iter()
        .map(|(currency, _, _)| json!({ "amount": 0, "currency": currency }))
        .collect();
    Ok(json_response(&json!({
        "object": "balance",
        "available": entries(|available, _| available),
        "connect_reserved": reserved,
        "livemode": caller.mode().is_live(),
        "pending": entries(|_, pending| pending),
    })))
}

/// `GET /v1/account`.
pub async fn account(caller: Caller, query: Option<String>) -> Result<Response, ApiError> {
    caller.require("connected_account_read")?;
    Params::from_query(query.as_deref()).reject_unknown(&["expand"])?;
    let id = &caller.account.id;
    let requirements = json!({
        "alternatives": [], "current_deadline": null, "currently_due": [], "disabled_reason": null,
        "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []
    });
    let created = caller
        .account
        .ledger
        .read()
        .expect("ledger lock poisoned")
        .now()
        - 400 * 86_400;
    Ok(json_response(&json!({
        "id": id,
        "object": "account",
        "business_profile": {
            "annual_revenue": { "amount": null, "currency": null, "fiscal_year_end": null },
            "estimated_worker_count": null,
            "mcc": "5734",
            "minority_owned_business_designation": null,
            "name": "Emulated Merchant",
            "product_description": null,
            "support_address": {
                "city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null
            },
            "support_email": null,
            "support_phone": null,
            "support_url": null,
            "url": "https://merchant.example"
        },
        "business_type": "company",
        "capabilities": { "card_payments": "active", "transfers": "active" },
        "charges_enabled": true,
        "controller": { "type": "account" },
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": true,
        "email": "owner@merchant.example",
        "external_accounts": {
            "object": "list", "data": [], "has_more": false, "url": format!("/v1/accounts/{id}/external_accounts")
        },
        "future_requirements": requirements,
        "metadata": {},
        "payouts_enabled": true,
        "requirements": requirements,
        // Only the settings a payments-analytics client reads; Stripe's object has more sub-objects.
        "settings": {
            "dashboard": { "display_name": "Emulated Merchant", "timezone": "Etc/UTC" },
            "payouts": {
                "debit_negative_balances": true,
                "schedule": { "delay_days": 2, "interval": "daily" },
                "statement_descriptor": null
            }
        },
        "tos_acceptance": { "date": created, "ip": null, "user_agent": null },
        "type": "standard",
    })))
}

/// `GET /v1/tokens/{id}` and `GET /v1/sources/{id}`: the emulator has neither, so after the permission check
/// every id is unknown (this is what makes them side-effect-free permission probes).
pub async fn unknown_by_id(
    caller: Caller,
    permission: &'static str,
    noun: &'static str,
    id: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    caller.require(permission)?;
    Params::from_query(query.as_deref()).reject_unknown(&["expand", "client_secret"])?;
    Err(ApiError::NoSuchObject {
        noun,
        id,
        param: "id".into(),
    })
}

/// An object as the caller's API version shapes it.
fn versioned(mut object: serde_json::Value, caller: &Caller) -> serde_json::Value {
    crate::versions::project(&mut object, &caller.version);
    object
}
