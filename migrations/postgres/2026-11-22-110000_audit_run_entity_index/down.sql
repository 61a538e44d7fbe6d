DROP INDEX audit_log_org_run;
CREATE INDEX audit_log_org_run ON audit_log (org_id, run_id);
