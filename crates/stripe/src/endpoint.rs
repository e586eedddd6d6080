//! Endpoint identity for rate limiting: method + path template with ids collapsed (`GET /v1/charges/{id}`).

/// The rate-limit bucket Stripe uses for a request: "Stripe considers each named API operation a separate endpoint"
/// and "GETs of different ids count against the same endpoint limit", so ids are collapsed to `{id}`.
/// A path segment is literal when it is a word of Stripe's URL vocabulary and an id otherwise, because ids such as
/// `tok_doesnotexist` cannot be told from words by their characters alone.
pub fn endpoint_template(method: &str, path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut template = String::with_capacity(path.len() + method.len() + 1);
    template.push_str(&method.to_ascii_uppercase());
    template.push(' ');
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        template.push('/');
        if PATH_WORDS.binary_search(&segment).is_ok() {
            template.push_str(segment);
        } else {
            template.push_str("{id}");
        }
    }
    if !path.contains(|c| c != '/') {
        template.push('/');
    }
    template
}

/// Every literal path segment of Stripe's v1 API (from spec3 2024-04-10 in `shared/stripe-openapi`, plus the retired
/// `skus`), sorted for binary search. A word missing here only merges two endpoints' budgets, which errs on the safe
/// side.
const PATH_WORDS: &[&str] = &[
    "accept",
    "account",
    "account_links",
    "account_sessions",
    "accounts",
    "activate",
    "active_entitlements",
    "advance",
    "apple_pay",
    "application_fees",
    "apply_customer_balance",
    "approve",
    "apps",
    "attach",
    "authorizations",
    "balance",
    "balance_transactions",
    "bank_accounts",
    "billing",
    "billing_portal",
    "calculations",
    "cancel",
    "cancel_action",
    "capabilities",
    "capture",
    "cardholders",
    "cards",
    "cash_balance",
    "cash_balance_transactions",
    "charges",
    "checkout",
    "climate",
    "close",
    "computed_upfront_line_items",
    "configurations",
    "confirm",
    "confirmation_tokens",
    "connection_tokens",
    "country_specs",
    "coupons",
    "create_force_capture",
    "create_from_calculation",
    "create_preview",
    "create_reversal",
    "create_unlinked_refund",
    "credit_notes",
    "credit_reversals",
    "customer_sessions",
    "customers",
    "deactivate",
    "debit_reversals",
    "decline",
    "delete",
    "deliver",
    "detach",
    "disconnect",
    "discount",
    "dispute",
    "disputes",
    "domains",
    "early_fraud_warnings",
    "entitlements",
    "ephemeral_keys",
    "event_summaries",
    "events",
    "exchange_rates",
    "expire",
    "external_accounts",
    "fail",
    "features",
    "file_links",
    "files",
    "finalize",
    "financial_accounts",
    "financial_connections",
    "find",
    "forwarding",
    "fund_cash_balance",
    "funding_instructions",
    "history",
    "identity",
    "inbound_transfers",
    "increment",
    "increment_authorization",
    "invoiceitems",
    "invoices",
    "issuing",
    "line_items",
    "lines",
    "link_account_sessions",
    "linked_accounts",
    "locations",
    "login_links",
    "mandate_notifications",
    "mandates",
    "mark_uncollectible",
    "meter_event_adjustments",
    "meter_events",
    "meters",
    "orders",
    "outbound_payments",
    "outbound_transfers",
    "owners",
    "pay",
    "payment_intents",
    "payment_links",
    "payment_method_configurations",
    "payment_method_domains",
    "payment_methods",
    "payouts",
    "pdf",
    "people",
    "personalization_designs",
    "persons",
    "physical_bundles",
    "plans",
    "post",
    "present_payment_method",
    "preview",
    "prices",
    "process_payment_intent",
    "process_setup_intent",
    "products",
    "promotion_codes",
    "quotes",
    "radar",
    "reactivate",
    "readers",
    "received_credits",
    "received_debits",
    "redact",
    "refresh",
    "refund",
    "refund_payment",
    "refunds",
    "registrations",
    "reject",
    "release",
    "report_runs",
    "report_types",
    "reporting",
    "requests",
    "resume",
    "return",
    "reversals",
    "reverse",
    "reviews",
    "scheduled_query_runs",
    "search",
    "secrets",
    "send",
    "sessions",
    "set_reader_display",
    "settings",
    "settlements",
    "setup_attempts",
    "setup_intents",
    "ship",
    "shipping",
    "shipping_rates",
    "sigma",
    "skus",
    "source_transactions",
    "sources",
    "submit",
    "subscribe",
    "subscription_items",
    "subscription_schedules",
    "subscriptions",
    "succeed",
    "suppliers",
    "tax",
    "tax_codes",
    "tax_ids",
    "tax_rates",
    "terminal",
    "test_clocks",
    "test_helpers",
    "tokens",
    "topups",
    "transaction_entries",
    "transactions",
    "transfers",
    "treasury",
    "unsubscribe",
    "upcoming",
    "usage_record_summaries",
    "usage_records",
    "v1",
    "validate",
    "value_list_items",
    "value_lists",
    "verification_reports",
    "verification_sessions",
    "verify",
    "verify_microdeposits",
    "void",
    "webhook_endpoints",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: &str, path: &str, expected: &str) {
        assert_eq!(endpoint_template(method, path), expected, "{method} {path}");
    }

    #[test]
    fn ids_collapse_and_words_stay() {
        check("GET", "/v1/charges", "GET /v1/charges");
        check(
            "get",
            "/v1/charges/ch_3MmlLrLkdIwHu7ix0snN0B15",
            "GET /v1/charges/{id}",
        );
        check("GET", "/v1/tokens/tok_doesnotexist", "GET /v1/tokens/{id}");
        check(
            "GET",
            "/v1/balance_transactions?limit=100",
            "GET /v1/balance_transactions",
        );
        check(
            "GET",
            "/v1/reporting/report_types/balance.summary.1",
            "GET /v1/reporting/report_types/{id}",
        );
        check(
            "POST",
            "/v1/payment_intents/pi_123/confirm",
            "POST /v1/payment_intents/{id}/confirm",
        );
        check(
            "GET",
            "/v1/customers/cus_1/sources/src_2",
            "GET /v1/customers/{id}/sources/{id}",
        );
        check(
            "DELETE",
            "/v1/webhook_endpoints/we_1",
            "DELETE /v1/webhook_endpoints/{id}",
        );
        check("GET", "/", "GET /");
    }

    #[test]
    fn the_word_list_is_sorted_so_binary_search_works() {
        assert!(PATH_WORDS.windows(2).all(|w| w[0] < w[1]));
    }
}
