"""Drives the emulator with the official Stripe Python SDK (stripe==16.1.0), as a real client would.

Usage: check.py BASE_URL ACCOUNT SECRET_KEY GUIDE_KEY NO_CHARGE_KEY EXPIRED_KEY PAYLOAD_FILE SIGNATURE WHSEC

Exits non-zero with a message naming the first check that failed. Run by tests/official_sdk.rs.
"""

import json
import sys
import urllib.request

import stripe

VERSION = "2026-07-29.dahlia"


def client(base, key):
    addresses = {"api": base, "files": base, "connect": base, "meter_events": base}
    return stripe.StripeClient(key, base_addresses=addresses, max_network_retries=0, stripe_version=VERSION)


def expect(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def expect_raises(error_type, call, what):
    try:
        call()
    except error_type as error:
        return error
    except Exception as error:  # noqa: BLE001 - report which error it was instead
        expect(False, f"{what}: raised {type(error).__name__} ({error}), not {error_type.__name__}")
    expect(False, f"{what}: no error raised, expected {error_type.__name__}")


def main():
    base, account, secret, guide, no_charge, expired, payload_file, signature, whsec = sys.argv[1:10]
    assert stripe.VERSION == "16.1.0", stripe.VERSION

    with urllib.request.urlopen(f"{base}/_emulator/accounts/{account}/truth") as response:
        truth = json.load(response)
    expected = truth["types"]["charge"]["count"]
    seen = set()
    for charge in client(base, guide).v1.charges.list({"limit": 100}).auto_paging_iter():
        expect(charge.object == "charge", f"auto-pagination yielded a {charge.object}")
        seen.add(charge.id)
    expect(len(seen) == expected, f"auto-pagination saw {len(seen)} charges, ground truth says {expected}")

    error = expect_raises(
        stripe.PermissionError, lambda: client(base, no_charge).v1.charges.list({"limit": 1}), "key without charge_read"
    )
    expect(error.http_status == 403, f"permission error status {error.http_status}")
    expect("rak_charge_read" in str(error.user_message), f"permission message: {error.user_message}")

    expect_raises(
        stripe.AuthenticationError,
        lambda: client(base, "sk_test_bogus0000000000000000").v1.charges.list({"limit": 1}),
        "bogus key",
    )
    error = expect_raises(
        stripe.AuthenticationError, lambda: client(base, expired).v1.charges.list({"limit": 1}), "expired key"
    )
    # The SDK does not copy `code` onto AuthenticationError; the parsed body carries it.
    code = (error.json_body or {}).get("error", {}).get("code")
    expect(code == "api_key_expired", f"expired key code {code}")

    guide_client = client(base, guide)
    endpoint = guide_client.v1.webhook_endpoints.create(
        {"url": "https://payscope.example/hooks/stripe", "enabled_events": ["charge.succeeded", "charge.refunded"]}
    )
    expect(str(endpoint.secret).startswith("whsec_"), "create did not return a whsec_ secret")
    listed = guide_client.v1.webhook_endpoints.list({"limit": 100})
    expect(any(e.id == endpoint.id for e in listed.data), "created endpoint not listed")
    expect(all("secret" not in e.to_dict() for e in listed.data), "list revealed a secret")
    guide_client.v1.webhook_endpoints.delete(endpoint.id)

    with open(payload_file, "rb") as f:
        payload = f.read()
    event = stripe.Webhook.construct_event(payload, signature, whsec)
    expect(event.id.startswith("evt_"), f"constructed event id {event.id}")
    expect_raises(
        stripe.SignatureVerificationError,
        lambda: stripe.Webhook.construct_event(payload + b" ", signature, whsec),
        "tampered payload",
    )
    print(f"ok: {len(seen)} charges paged, errors mapped, webhook secret handled, event {event.id} verified")


if __name__ == "__main__":
    main()
