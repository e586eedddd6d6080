//! Why charges fail: Stripe's failure codes, outcome types, decline codes, messages and advice, with their
//! relative frequencies among declines.

/// One way a charge can fail, with everything Stripe reports about it.
pub(crate) struct Decline {
    /// `failure_code` on the charge.
    pub failure_code: &'static str,
    /// `failure_message` on the charge.
    pub failure_message: &'static str,
    /// `outcome.type`.
    pub outcome_type: &'static str,
    /// `outcome.reason` (the decline code, or `highest_risk_level` for Radar blocks).
    pub reason: &'static str,
    /// `outcome.network_status`.
    pub network_status: &'static str,
    /// `outcome.seller_message`.
    pub seller_message: &'static str,
    /// `outcome.advice_code`.
    pub advice_code: Option<&'static str>,
    /// `outcome.network_advice_code` (Visa/Mastercard two-digit advice).
    pub network_advice_code: Option<&'static str>,
    /// `outcome.network_decline_code` (ISO 8583 response code).
    pub network_decline_code: Option<&'static str>,
    /// Share among issuer declines (the table's issuer rows), used to draw a decline reason.
    pub weight: f64,
    /// Whether trying again with the same card is futile, so a retry switches cards.
    pub needs_new_card: bool,
}

const BANK_DETAILS: &str = "The bank did not return any further details with this decline.";

/// Index 0 is unused (a charge's `decline` of 0 means "not declined").
pub(crate) const DECLINES: &[Decline] = &[
    Decline {
        failure_code: "",
        failure_message: "",
        outcome_type: "authorized",
        reason: "",
        network_status: "approved_by_network",
        seller_message: "Payment complete.",
        advice_code: None,
        network_advice_code: None,
        network_decline_code: None,
        weight: 0.0,
        needs_new_card: false,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "generic_decline",
        network_status: "declined_by_network",
        seller_message: BANK_DETAILS,
        advice_code: Some("try_again_later"),
        network_advice_code: None,
        network_decline_code: Some("05"),
        weight: 33.0,
        needs_new_card: false,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card has insufficient funds.",
        outcome_type: "issuer_declined",
        reason: "insufficient_funds",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `insufficient_funds`.",
        advice_code: Some("try_again_later"),
        network_advice_code: Some("02"),
        network_decline_code: Some("51"),
        weight: 24.0,
        needs_new_card: false,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "do_not_honor",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `do_not_honor`.",
        advice_code: Some("do_not_try_again"),
        network_advice_code: Some("03"),
        network_decline_code: Some("05"),
        weight: 11.0,
        needs_new_card: true,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "fraudulent",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `fraudulent`.",
        advice_code: Some("do_not_try_again"),
        network_advice_code: Some("03"),
        network_decline_code: Some("59"),
        weight: 3.0,
        needs_new_card: true,
    },
    Decline {
        failure_code: "expired_card",
        failure_message: "Your card has expired.",
        outcome_type: "issuer_declined",
        reason: "expired_card",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `expired_card`.",
        advice_code: Some("confirm_card_data"),
        network_advice_code: Some("01"),
        network_decline_code: Some("54"),
        weight: 6.0,
        needs_new_card: true,
    },
    Decline {
        failure_code: "incorrect_cvc",
        failure_message: "Your card's security code is incorrect.",
        outcome_type: "issuer_declined",
        reason: "incorrect_cvc",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `incorrect_cvc`.",
        advice_code: Some("confirm_card_data"),
        network_advice_code: None,
        network_decline_code: Some("N7"),
        weight: 7.0,
        needs_new_card: false,
    },
    Decline {
        failure_code: "processing_error",
        failure_message: "An error occurred while processing your card. Try again in a little bit.",
        outcome_type: "issuer_declined",
        reason: "processing_error",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `processing_error`.",
        advice_code: Some("try_again_later"),
        network_advice_code: None,
        network_decline_code: Some("96"),
        weight: 3.0,
        needs_new_card: false,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "lost_card",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `lost_card`.",
        advice_code: Some("do_not_try_again"),
        network_advice_code: Some("03"),
        network_decline_code: Some("41"),
        weight: 1.0,
        needs_new_card: true,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "stolen_card",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `stolen_card`.",
        advice_code: Some("do_not_try_again"),
        network_advice_code: Some("03"),
        network_decline_code: Some("43"),
        weight: 0.7,
        needs_new_card: true,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined.",
        outcome_type: "issuer_declined",
        reason: "card_velocity_exceeded",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `card_velocity_exceeded`.",
        advice_code: Some("try_again_later"),
        network_advice_code: Some("02"),
        network_decline_code: Some("61"),
        weight: 2.5,
        needs_new_card: false,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card does not support this type of purchase.",
        outcome_type: "issuer_declined",
        reason: "transaction_not_allowed",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `transaction_not_allowed`.",
        advice_code: Some("do_not_try_again"),
        network_advice_code: Some("03"),
        network_decline_code: Some("57"),
        weight: 2.0,
        needs_new_card: true,
    },
    Decline {
        failure_code: "card_declined",
        failure_message: "Your card was declined. This transaction requires authentication.",
        outcome_type: "issuer_declined",
        reason: "authentication_required",
        network_status: "declined_by_network",
        seller_message: "The bank returned the decline code `authentication_required`.",
        advice_code: Some("try_again_later"),
        network_advice_code: None,
        network_decline_code: Some("1A"),
        weight: 3.5,
        needs_new_card: false,
    },
    Decline {
        failure_code: "incorrect_number",
        failure_message: "Your card number is incorrect.",
        outcome_type: "invalid",
        reason: "incorrect_number",
        network_status: "not_sent_to_network",
        seller_message: "The card number is incorrect.",
        advice_code: Some("confirm_card_data"),
        network_advice_code: None,
        network_decline_code: None,
        weight: 2.3,
        needs_new_card: true,
    },
];

/// The Radar block: not an issuer decline, drawn from the risk score instead of the weights above.
pub(crate) const BLOCKED: Decline = Decline {
    failure_code: "card_declined",
    failure_message: "Your card was declined.",
    outcome_type: "blocked",
    reason: "highest_risk_level",
    network_status: "not_sent_to_network",
    seller_message: "Stripe blocked this payment as too risky.",
    advice_code: Some("do_not_try_again"),
    network_advice_code: None,
    network_decline_code: None,
    weight: 0.0,
    needs_new_card: true,
};

/// Index of [`BLOCKED`] when stored in a charge's `decline` byte.
pub(crate) const BLOCKED_INDEX: u8 = 200;

/// Index of the decline used for a failed 3-D Secure authentication.
pub(crate) const AUTHENTICATION_REQUIRED: u8 = 12;

/// The decline stored as `index` in a charge (0 = none).
pub(crate) fn decline(index: u8) -> &'static Decline {
    if index == BLOCKED_INDEX {
        &BLOCKED
    } else {
        &DECLINES[index as usize]
    }
}

/// Weights of the issuer-decline rows for a weighted draw.
pub(crate) fn issuer_weights() -> Vec<f64> {
    DECLINES.iter().map(|d| d.weight).collect()
}
