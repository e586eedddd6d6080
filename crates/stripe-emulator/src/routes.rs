//! The whole route table: Stripe's `/v1/` API behind the gate (latency, auth, rate limits, faults, headers) and
//! the `/_emulator/` control API outside it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::api::{events, objects, unrecognized, webhook_endpoints as endpoints};
use crate::control;
use crate::data::ObjectType;
use crate::emulator::Emulator;
use crate::gate::{Caller, gate};

/// The emulator's router.
pub fn router(emulator: Emulator) -> Router {
    let mut v1 = Router::new();
    for ty in ObjectType::ALL {
        v1 = if ty == ObjectType::ReportType {
            v1.route(
                ty.list_path(),
                get(|Extension(c): Extension<Caller>, RawQuery(q): RawQuery| {
                    objects::list_report_types(c, q)
                }),
            )
        } else {
            v1.route(
                ty.list_path(),
                get(
                    move |Extension(c): Extension<Caller>, RawQuery(q): RawQuery| {
                        objects::list(c, ty, q)
                    },
                ),
            )
        };
        v1 = v1.route(
            &format!("{}/{{id}}", ty.list_path()),
            get(
                move |Extension(c): Extension<Caller>,
                      Path(id): Path<String>,
                      RawQuery(q): RawQuery| { objects::retrieve(c, ty, id, q) },
            ),
        );
    }
    let v1 = v1
        .route(
            "/v1/balance",
            get(|Extension(c): Extension<Caller>, RawQuery(q): RawQuery| objects::balance(c, q)),
        )
        .route(
            "/v1/account",
            get(|Extension(c): Extension<Caller>, RawQuery(q): RawQuery| objects::account(c, q)),
        )
        .route(
            "/v1/tokens/{id}",
            get(
                |Extension(c): Extension<Caller>, Path(id): Path<String>, RawQuery(q): RawQuery| {
                    objects::unknown_by_id(c, "token_read", "token", id, q)
                },
            ),
        )
        .route(
            "/v1/sources/{id}",
            get(
                |Extension(c): Extension<Caller>, Path(id): Path<String>, RawQuery(q): RawQuery| {
                    objects::unknown_by_id(c, "source_read", "source", id, q)
                },
            ),
        )
        .route(
            "/v1/customers/{id}/payment_methods",
            get(
                |Extension(c): Extension<Caller>, Path(id): Path<String>, RawQuery(q): RawQuery| {
                    objects::list_customer_payment_methods(c, id, q)
                },
            ),
        )
        .route(
            "/v1/events",
            get(|Extension(c): Extension<Caller>, RawQuery(q): RawQuery| events::list(c, q)),
        )
        .route(
            "/v1/events/{id}",
            get(
                |Extension(c): Extension<Caller>, Path(id): Path<String>, RawQuery(q): RawQuery| {
                    events::retrieve(c, id, q)
                },
            ),
        )
        .route(
            "/v1/webhook_endpoints",
            get(|Extension(c): Extension<Caller>, RawQuery(q): RawQuery| endpoints::list(c, q))
                .post(
                    |Extension(c): Extension<Caller>, RawQuery(q): RawQuery, body: Bytes| {
                        endpoints::create(c, q, body)
                    },
                ),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            get(
                |Extension(c): Extension<Caller>, Path(id): Path<String>, RawQuery(q): RawQuery| {
                    endpoints::retrieve(c, id, q)
                },
            )
            .post(
                |Extension(c): Extension<Caller>,
                 Path(id): Path<String>,
                 RawQuery(q): RawQuery,
                 body: Bytes| { endpoints::update(c, id, q, body) },
            )
            .delete(|Extension(c): Extension<Caller>, Path(id): Path<String>| {
                endpoints::delete(c, id)
            }),
        )
        .fallback(unrecognized)
        .method_not_allowed_fallback(unrecognized)
        .layer(from_fn_with_state(emulator.clone(), gate));

    let control = Router::new()
        .route(
            "/accounts",
            get(control::list_accounts).post(control::create_account),
        )
        .route("/accounts/{account}/keys", post(control::mint_key))
        .route(
            "/accounts/{account}/card_details",
            post(control::set_card_details),
        )
        .route(
            "/accounts/{account}/payment_methods_listing",
            post(control::set_payment_methods_listing),
        )
        .route(
            "/accounts/{account}/api_version",
            post(control::set_api_version),
        )
        .route("/accounts/{account}/activity", post(control::activity))
        .route("/accounts/{account}/truth", get(control::truth))
        .route("/accounts/{account}/deliveries", get(control::deliveries))
        .route("/keys/{key}/expire", post(control::expire_key))
        .route(
            "/keys/{key}/permissions",
            post(control::edit_key_permissions),
        )
        .route(
            "/webhook_endpoints/{id}/roll_secret",
            post(control::roll_endpoint_secret),
        )
        .route(
            "/settings",
            get(control::get_settings).post(control::patch_settings),
        );

    v1.nest("/_emulator", control).with_state(emulator)
}
