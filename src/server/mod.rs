//! The process's serving machinery, independent of the services it serves: the ports (TLS,
//! health, reflection, drain), [`admission`] before a body is read, the guard on accepted
//! [`connections`], the [`admin`] port and its [`metrics`], and the [`shutdown`] signal.

pub(crate) mod admin;
pub(crate) mod admission;
pub(crate) mod connections;
pub(crate) mod metrics;
pub(crate) mod ports;
pub(crate) mod shutdown;

pub use ports::ServerError;
pub(crate) use ports::{Api, Bound, PortSettings, Shared, TlsFiles};
