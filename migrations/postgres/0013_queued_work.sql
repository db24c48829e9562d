-- The helpdesk's queued unlinks and the back office's queued login resets become jobs of the
-- one queue (kinds helpdesk_unlink and login_reset); what was waiting is carried over.
INSERT INTO jobs (kind, payload, state, run_at, created_at)
SELECT 'helpdesk_unlink', '{"account":' || account_id || '}', 'due', queued_at, queued_at FROM queued_unlinks;
INSERT INTO jobs (kind, payload, state, run_at, created_at)
SELECT 'login_reset', '{"form":' || id || '}', 'due', recorded_at, recorded_at FROM paper_forms WHERE state = 'queued';
-- the recurring tasks that polled them
DELETE FROM jobs WHERE kind = 'every' AND payload IN ('{"task":"queued_unlinks"}', '{"task":"queued_login_resets"}');
DROP TABLE queued_unlinks;
