//! The process's serving machinery, independent of the services it serves: the ports (TLS,
//! health, reflection, drain), [`admission`] before a body is read, the guard on accepted
//! [`connections`], the [`admin`] port and its [`metrics`], and the [`shutdown`] signal.

pub mod admin;
pub mod admission;
pub mod connections;
pub mod metrics;
pub mod ports;
pub mod shutdown;

pub use ports::{Api, Bound, PortSettings, ServerError, Shared, TlsFiles};
