//! The Stripe object types the ledger holds, with their wire names, id prefixes and list paths.

/// One kind of Stripe object the emulator serves; the server routes `/v1/...` paths to it and the ledger keys
/// every table by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum ObjectType {
    /// `charge`: one payment attempt on a card.
    Charge,
    /// `payment_intent`: a payment the customer tries to make, with one or more charges.
    PaymentIntent,
    /// `refund`: money returned on a charge (full or partial).
    Refund,
    /// `dispute`: a chargeback or inquiry raised by the cardholder's bank.
    Dispute,
    /// `balance_transaction`: a movement of the account's balance (charge, refund, dispute, payout).
    BalanceTransaction,
    /// `payout`: money sent from the Stripe balance to the merchant's bank.
    Payout,
    /// `customer`: a buyer the merchant knows.
    Customer,
    /// `payment_method`: a saved card.
    PaymentMethod,
    /// `setup_intent`: saving a card for later without charging it.
    SetupIntent,
    /// `product`: something the merchant sells.
    Product,
    /// `subscription`: a recurring plan of a customer.
    Subscription,
    /// `credit_note`: a credit issued against an invoice.
    CreditNote,
    /// `file`: an uploaded dispute evidence or a generated report.
    File,
    /// `reporting.report_type`: a kind of financial report (fixed catalogue, not paginated).
    ReportType,
    /// `reporting.report_run`: one generated financial report.
    ReportRun,
}

impl ObjectType {
    /// Every object type, in a stable order, so servers and tests can iterate all tables.
    pub const ALL: [ObjectType; 15] = [
        ObjectType::Charge,
        ObjectType::PaymentIntent,
        ObjectType::Refund,
        ObjectType::Dispute,
        ObjectType::BalanceTransaction,
        ObjectType::Payout,
        ObjectType::Customer,
        ObjectType::PaymentMethod,
        ObjectType::SetupIntent,
        ObjectType::Product,
        ObjectType::Subscription,
        ObjectType::CreditNote,
        ObjectType::File,
        ObjectType::ReportType,
        ObjectType::ReportRun,
    ];

    /// The value of the `object` field on the wire, e.g. `"charge"` or `"reporting.report_run"`.
    pub fn object_name(self) -> &'static str {
        match self {
            ObjectType::Charge => "charge",
            ObjectType::PaymentIntent => "payment_intent",
            ObjectType::Refund => "refund",
            ObjectType::Dispute => "dispute",
            ObjectType::BalanceTransaction => "balance_transaction",
            ObjectType::Payout => "payout",
            ObjectType::Customer => "customer",
            ObjectType::PaymentMethod => "payment_method",
            ObjectType::SetupIntent => "setup_intent",
            ObjectType::Product => "product",
            ObjectType::Subscription => "subscription",
            ObjectType::CreditNote => "credit_note",
            ObjectType::File => "file",
            ObjectType::ReportType => "reporting.report_type",
            ObjectType::ReportRun => "reporting.report_run",
        }
    }

    /// The id prefix Stripe uses, e.g. `"ch_"`; empty for report types, whose ids are names like
    /// `balance.summary.1`.
    pub fn id_prefix(self) -> &'static str {
        match self {
            ObjectType::Charge => "ch_",
            ObjectType::PaymentIntent => "pi_",
            ObjectType::Refund => "re_",
            ObjectType::Dispute => "dp_",
            ObjectType::BalanceTransaction => "txn_",
            ObjectType::Payout => "po_",
            ObjectType::Customer => "cus_",
            ObjectType::PaymentMethod => "pm_",
            ObjectType::SetupIntent => "seti_",
            ObjectType::Product => "prod_",
            ObjectType::Subscription => "sub_",
            ObjectType::CreditNote => "cn_",
            ObjectType::File => "file_",
            ObjectType::ReportType => "",
            ObjectType::ReportRun => "frr_",
        }
    }

    /// The list endpoint's path, also the `url` of Stripe's list envelope, e.g. `"/v1/charges"`.
    pub fn list_path(self) -> &'static str {
        match self {
            ObjectType::Charge => "/v1/charges",
            ObjectType::PaymentIntent => "/v1/payment_intents",
            ObjectType::Refund => "/v1/refunds",
            ObjectType::Dispute => "/v1/disputes",
            ObjectType::BalanceTransaction => "/v1/balance_transactions",
            ObjectType::Payout => "/v1/payouts",
            ObjectType::Customer => "/v1/customers",
            ObjectType::PaymentMethod => "/v1/payment_methods",
            ObjectType::SetupIntent => "/v1/setup_intents",
            ObjectType::Product => "/v1/products",
            ObjectType::Subscription => "/v1/subscriptions",
            ObjectType::CreditNote => "/v1/credit_notes",
            ObjectType::File => "/v1/files",
            ObjectType::ReportType => "/v1/reporting/report_types",
            ObjectType::ReportRun => "/v1/reporting/report_runs",
        }
    }

    /// The object type whose list endpoint is `path` (exact match, no trailing slash), for routing.
    pub fn from_list_path(path: &str) -> Option<ObjectType> {
        ObjectType::ALL
            .into_iter()
            .find(|ty| ty.list_path() == path)
    }

    /// The object type whose `object` field is `name`, for parsing expand targets and event types.
    pub fn from_object_name(name: &str) -> Option<ObjectType> {
        ObjectType::ALL
            .into_iter()
            .find(|ty| ty.object_name() == name)
    }

    /// Position in [`ObjectType::ALL`], used to index per-type tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::ObjectType;

    #[test]
    fn every_list_path_maps_back_to_its_type() {
        for ty in ObjectType::ALL {
            assert_eq!(ObjectType::from_list_path(ty.list_path()), Some(ty));
            assert_eq!(ObjectType::from_object_name(ty.object_name()), Some(ty));
            assert_eq!(ObjectType::ALL[ty.index()], ty);
        }
        assert_eq!(ObjectType::from_list_path("/v1/skus"), None);
    }
}
