-- Linking: the reconciliation job with NIA looks persons up by the requests that named them.
CREATE INDEX pairing_requests_bsi ON pairing_requests(bsi);
