//! `rolodex-testkit`: what tests of every Rolodex crate share. In-memory fakes of the storage ports
//! and their contract suites ([`store`]), the `ContactSource` / `ContactSink` contract suite
//! ([`provider_contract`]), and mock provider servers that behave like Graph, Google and
//! GoHighLevel as `shared/design/provider-apis.md` describes ([`mocks`]). Never a normal dependency.

pub mod generate;
pub mod mocks;
pub mod provider_contract;
pub mod store;
