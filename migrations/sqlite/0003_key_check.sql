-- One-time WebAuthn challenges of the public security-key check.
CREATE TABLE webauthn_challenges (
    ticket_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    challenge TEXT NOT NULL,
    rp_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_ip ON webauthn_challenges(ip, created_at);
