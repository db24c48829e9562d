-- The Czech POINT path: a pairing request's code, the reminder before its deadline, and every
-- delivery of population-register data received (kept for support, matched or not).
ALTER TABLE pairing_requests ADD COLUMN code TEXT;
ALTER TABLE pairing_requests ADD COLUMN reminded_at BIGINT;
CREATE UNIQUE INDEX pairing_requests_code ON pairing_requests(code);

CREATE TABLE office_deliveries (
    message_id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    code TEXT,
    request_id BIGINT,
    status TEXT NOT NULL,
    person TEXT NOT NULL,
    document TEXT
);
CREATE INDEX office_deliveries_code ON office_deliveries(code);
