-- A run's audit entries of one entity type, newest first: how the review overrides of a run are
-- found (`entity_type = 'sync_item'`, paged by `(at, id)` descending). On `(org_id, run_id)` alone
-- that read and sorted every entry of the run, one per applied change once it has executed (as
-- many as its items), to find a handful of overrides, again at each approve and execute. Ascending
-- (read backwards for newest first): an execute's entries then go in at the right-hand end of
-- their (run, entity type) range, where PostgreSQL splits a full leaf so as to leave it full
-- (ascending insertions), rather than at the left-hand end.
DROP INDEX audit_log_org_run;
CREATE INDEX audit_log_org_run ON audit_log (org_id, run_id, entity_type, at, id);
