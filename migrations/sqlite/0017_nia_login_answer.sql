-- The answer we signed for a login flow (JSON: NIA's address, the SAML Response, the relay
-- state, the outcome), kept with the flow so that the page after the step that made it can
-- show it and post it to NIA; read only by the browser that carries the flow's cookie, and
-- only while the flow would have lasted.
ALTER TABLE nia_login_requests ADD COLUMN answer TEXT;
