-- Webhook subscriptions and their deliveries (Standard Webhooks 1.0). A worker on every instance
-- fans new events out into deliveries (advancing the subscription's last_position in the same
-- transaction) and sends the due ones; see src/Claims.Api/Webhooks/WebhookWorker.cs.
CREATE TABLE webhooks (
    id                    uuid PRIMARY KEY,
    url                   text NOT NULL CHECK (char_length(url) <= 2048),
    -- Empty: every type.
    event_types           text[] NOT NULL DEFAULT '{}',
    -- Only this claim's events, when set.
    claim_id              uuid,
    -- Stored as given (whsec_...), not hashed: the sender needs it to sign every delivery.
    secret                text NOT NULL,
    -- After a rotation, deliveries are signed with this one too until previous_secret_until.
    previous_secret       text,
    previous_secret_until timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            text CHECK (char_length(created_by) <= 100),
    disabled_at           timestamptz,
    disabled_reason       text CHECK (char_length(disabled_reason) <= 500),
    -- Since when every attempt has failed; null after a success. Long enough, and the subscription is disabled.
    failing_since         timestamptz,
    -- The last event fanned out into deliveries: a new subscription starts at the newest event
    -- committed before it, so that it receives what happens from then on, never the backlog.
    last_position         bigint NOT NULL DEFAULT 0
);

CREATE INDEX webhooks_created_at_idx ON webhooks (created_at DESC, id DESC);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    -- Order within a subscription: a subscription's next delivery waits while an earlier one is pending.
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    webhook_id      uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- Null for a test delivery (webhook.test), which is no event of the feed.
    event_position  bigint,
    event_type      text NOT NULL,
    -- The body as sent, the CloudEvent JSON: kept here so that a retry sends the same bytes even
    -- after the event is purged from the feed.
    payload         text NOT NULL,
    -- The webhook-id header: the same for every attempt, so that receivers can drop repeats.
    message_id      text NOT NULL,
    attempt         int NOT NULL DEFAULT 0,
    -- The attempt a manual retry started from: the retry schedule counts the attempts after it.
    retries_from    int NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'abandoned')),
    -- While pending: when the next attempt is due; a worker that claims it moves it on by a lease,
    -- so that a worker killed mid-send leaves the delivery to be tried again, never lost.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status_code int,
    last_duration_ms int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, event_position)
);

-- The worker's pick: due pending deliveries, and each subscription's earliest pending one.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, seq) WHERE status = 'pending';
-- GET /webhooks/{id}/deliveries, newest first.
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- Each attempt as it went, for GET /webhooks/{id}/deliveries.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      int NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  int,
    duration_ms  int NOT NULL,
    error        text CHECK (char_length(error) <= 1000),
    PRIMARY KEY (delivery_id, attempt)
);
