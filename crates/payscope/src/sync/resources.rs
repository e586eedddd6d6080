//! The Stripe resources the historical import reads, and how each is listed.

use super::embedded::EmbeddedPaymentMethod;

/// How one Stripe list endpoint is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// Name used in ranges, progress and the CLI summary (`charges`, `payment_intents`, …).
    pub name: &'static str,
    /// The list endpoint.
    pub path: &'static str,
    /// The `object` value of what it lists (the stored object type).
    pub object_type: &'static str,
    /// Whether the endpoint takes a `created` filter; without one the resource is one unsplittable range.
    pub created_filter: bool,
    /// Whether the endpoint pages (`limit`, cursors); report types come as one full list and refuse `limit`.
    pub paginated: bool,
    /// `expand[]` paths sent with every page.
    pub expand: &'static [&'static str],
    /// Where its objects carry PaymentMethods, which the import stores too (see `embedded`).
    pub payment_methods: &'static [EmbeddedPaymentMethod],
    /// Endpoint-specific filters sent with every page.
    pub extra: &'static [(&'static str, &'static str)],
    /// The restricted-key permission the endpoint needs.
    pub permission: &'static str,
    /// Optional resources are outside the guide's key set: a 403 records them as not readable with this key
    /// instead of stopping the import.
    pub optional: bool,
    /// Only the last `window_days` days are listed (events keep 30 days); `None` = all history.
    pub window_days: Option<i64>,
    /// One of the account's longest lists, one object or more per payment over all its history (charges, intents,
    /// balance transactions): they decide when the import ends, so their pages go before shorter lists' when the
    /// account's budget is short (see `recent`). Events are not: Stripe keeps 30 days of them.
    pub long: bool,
    /// What the dashboards read (payments and their fees, refunds, disputes): its recent ranges go before anything
    /// else of the import when the account's budget is short, so the last days are on the dashboard first.
    pub dashboard: bool,
}

const fn resource(
    name: &'static str,
    path: &'static str,
    object_type: &'static str,
    permission: &'static str,
) -> Resource {
    Resource {
        name,
        path,
        object_type,
        created_filter: true,
        paginated: true,
        expand: &[],
        payment_methods: &[],
        extra: &[],
        permission,
        optional: false,
        window_days: None,
        long: false,
        dashboard: false,
    }
}

/// Every resource of the import, payments first so the dashboard fills first when workers are scarce.
pub const RESOURCES: &[Resource] = &[
    Resource {
        // The balance transaction carries fee and net, which the payment row needs; expanding it inline saves a
        // join at import time and needs no permission beyond charge_read.
        expand: &["data.balance_transaction"],
        long: true,
        dashboard: true,
        ..resource("charges", "/v1/charges", "charge", "charge_read")
    },
    Resource {
        // The PaymentMethod each intent used comes with its page (payment_method_read is in the key set), so the
        // payment methods need no listing of their own (see `embedded`).
        expand: &["data.payment_method"],
        payment_methods: &[
            EXPANDED_PAYMENT_METHOD,
            EmbeddedPaymentMethod {
                path: &["last_payment_error", "payment_method"],
                expanded: false,
            },
        ],
        long: true,
        ..resource(
            "payment_intents",
            "/v1/payment_intents",
            "payment_intent",
            "payment_intent_read",
        )
    },
    Resource {
        dashboard: true,
        ..resource("refunds", "/v1/refunds", "refund", "charge_read")
    },
    Resource {
        dashboard: true,
        ..resource("disputes", "/v1/disputes", "dispute", "dispute_read")
    },
    Resource {
        long: true,
        dashboard: true,
        ..resource(
            "balance_transactions",
            "/v1/balance_transactions",
            "balance_transaction",
            "balance_read",
        )
    },
    resource("payouts", "/v1/payouts", "payout", "payout_read"),
    Resource {
        optional: true,
        expand: &["data.invoice_settings.default_payment_method"],
        payment_methods: &[EmbeddedPaymentMethod {
            path: &["invoice_settings", "default_payment_method"],
            expanded: true,
        }],
        ..resource("customers", "/v1/customers", "customer", "customer_read")
    },
    Resource {
        // Without `customer`, Stripe's spec says this lists PaymentMethods "for Treasury flows" only; whatever it
        // lists is imported, and the rest comes inside the intents and customers.
        created_filter: false,
        ..resource(
            "payment_methods",
            "/v1/payment_methods",
            "payment_method",
            "payment_method_read",
        )
    },
    Resource {
        expand: &["data.payment_method"],
        payment_methods: &[
            EXPANDED_PAYMENT_METHOD,
            EmbeddedPaymentMethod {
                path: &["last_setup_error", "payment_method"],
                expanded: false,
            },
        ],
        ..resource(
            "setup_intents",
            "/v1/setup_intents",
            "setup_intent",
            "setup_intent_read",
        )
    },
    resource("products", "/v1/products", "product", "product_read"),
    Resource {
        // The default list leaves out canceled subscriptions.
        extra: &[("status", "all")],
        ..resource(
            "subscriptions",
            "/v1/subscriptions",
            "subscription",
            "subscription_read",
        )
    },
    resource(
        "credit_notes",
        "/v1/credit_notes",
        "credit_note",
        "credit_note_read",
    ),
    resource("files", "/v1/files", "file", "file_read"),
    Resource {
        created_filter: false,
        paginated: false,
        ..resource(
            "report_types",
            "/v1/reporting/report_types",
            "reporting.report_type",
            "report_runs_and_report_types_read",
        )
    },
    resource(
        "report_runs",
        "/v1/reporting/report_runs",
        "reporting.report_run",
        "report_runs_and_report_types_read",
    ),
    Resource {
        // Stripe keeps 30 days of events; importing them seeds the live-sync cursor.
        window_days: Some(30),
        ..resource("events", "/v1/events", "event", "event_read")
    },
];

/// An intent's `payment_method`, expanded by the import.
const EXPANDED_PAYMENT_METHOD: EmbeddedPaymentMethod = EmbeddedPaymentMethod {
    path: &["payment_method"],
    expanded: true,
};

/// The resource named `name`.
pub fn resource_named(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_unique_and_found_by_name() {
        for r in RESOURCES {
            assert_eq!(resource_named(r.name), Some(r));
            assert!(r.path.starts_with("/v1/"), "{}", r.path);
        }
        assert_eq!(resource_named("skus"), None);
        assert_eq!(
            RESOURCES.iter().filter(|r| r.optional).count(),
            1,
            "only customers lie outside the guide's key set"
        );
        let first: Vec<&str> = RESOURCES
            .iter()
            .filter(|r| r.dashboard)
            .map(|r| r.name)
            .collect();
        assert_eq!(
            first,
            ["charges", "refunds", "disputes", "balance_transactions"]
        );
        assert!(
            RESOURCES
                .iter()
                .filter(|r| r.dashboard)
                .all(|r| r.created_filter && !r.optional && r.window_days.is_none()),
            "recent-first needs ranges by `created`, and a dashboard cannot wait for an optional resource"
        );
    }
}
