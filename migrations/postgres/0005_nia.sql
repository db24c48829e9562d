-- Linking accounts to NIA: pairing requests (a persisted state machine), the link, the keys
-- registered at NIA as means, SAML assertions already used, and the registry-change cursor.
CREATE TABLE pairing_requests (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    state TEXT NOT NULL,
    relay_hash TEXT,
    saml_request_id TEXT,
    registry TEXT,
    bsi TEXT,
    outcome TEXT,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pairing_requests_account ON pairing_requests(account_id);
CREATE INDEX pairing_requests_state ON pairing_requests(state);
CREATE UNIQUE INDEX pairing_requests_relay ON pairing_requests(relay_hash);

CREATE TABLE saml_seen (
    assertion_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE nia_links (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    bsi TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL,
    loa TEXT NOT NULL,
    linked_at BIGINT NOT NULL
);

CREATE TABLE nia_means (
    key_id BIGINT PRIMARY KEY REFERENCES security_keys(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    means_id TEXT NOT NULL,
    registered_at BIGINT NOT NULL
);

CREATE TABLE nia_cursor (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

ALTER TABLE accounts ADD COLUMN validated_at BIGINT;
