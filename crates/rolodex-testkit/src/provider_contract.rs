//! Contract suites for the `ContactSource` and `ContactSink` ports, run against every adapter.
