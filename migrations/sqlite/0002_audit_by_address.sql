-- Registration limits count recent account creations per address.
CREATE INDEX audit_events_ip_event ON audit_events(ip, event, at);
