-- What the browser asks the key for a stored challenge (its WebAuthn options, as JSON): kept
-- with the ticket, so that the page of the key step gets them from the server rather than
-- from a cookie that a long list of keys would overflow.
ALTER TABLE webauthn_challenges ADD COLUMN options TEXT;
