-- Support requests: written as a draft (the citizen sees what will be sent), then sent (a
-- reference number, acknowledged by e-mail), then answered from the support console. A
-- citizen who cannot log in sends one too (account_id is NULL).
CREATE TABLE support_requests (
    id BIGSERIAL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    draft_token_hash TEXT UNIQUE,
    state TEXT NOT NULL,
    account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    os TEXT NOT NULL,
    browser TEXT NOT NULL,
    key_type TEXT NOT NULL,
    account_keys TEXT NOT NULL,
    description TEXT NOT NULL,
    happened_at TEXT NOT NULL,
    key_check TEXT,
    screenshot_type TEXT,
    screenshot BYTEA,
    problems TEXT NOT NULL,
    -- the writer's address for the limits (an IPv6 address by its /64)
    ip TEXT NOT NULL,
    writes BIGINT NOT NULL,
    sent_ip TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    answered_at BIGINT,
    answered_by BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    answer TEXT
);
CREATE INDEX support_requests_queue ON support_requests(state, sent_at);
CREATE INDEX support_requests_by_address ON support_requests(ip, updated_at);
CREATE INDEX support_requests_sent_by_address ON support_requests(sent_ip, sent_at);
CREATE INDEX support_requests_sent ON support_requests(sent_at);
