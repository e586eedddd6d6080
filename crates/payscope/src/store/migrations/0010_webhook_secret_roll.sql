-- A webhook signing secret rolled in the Stripe Dashboard: the merchant pastes the new secret, and the one it
-- replaces stays accepted until previous_webhook_secret_until (unix seconds), as Stripe keeps signing with it for a
-- while. Deliveries refused for a bad signature are counted per connection (written at most once a minute), so the
-- connection's health can say that the secret was probably rolled.

ALTER TABLE connections ADD COLUMN previous_webhook_secret_sealed TEXT;
ALTER TABLE connections ADD COLUMN previous_webhook_secret_until BIGINT;
ALTER TABLE connections ADD COLUMN webhook_secret_set_at BIGINT;
ALTER TABLE connections ADD COLUMN webhook_refused_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN webhook_refused_at BIGINT;
