//! The typed boundary: what the API takes and answers. The server serialises these, the CLI
//! and the tests read them, and the OpenAPI document is generated from them, so a field
//! renamed here is renamed everywhere at once. Nothing here knows about storage or HTTP
//! frameworks; a status code is a plain number.

mod codes;
pub mod errors;
pub mod requests;

pub use errors::{ErrorCode, Problem};
pub use requests::{
    DenialReason, ExtensionReason, Request, RequestKind, RequestPage, RequestSource, RequestState,
};
