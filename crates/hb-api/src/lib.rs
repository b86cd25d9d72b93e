//! The daemon side of the Heartbeat client API socket (docs/behaviour.md §7), as
//! pure logic.
//!
//! The master control process owns the listening socket and the client
//! connections; everything it has to *decide* about them lives here, free of
//! I/O so that every rule can be unit-tested byte for byte:
//!
//! * [`view`]: [`ClusterView`], the read-only questions the API asks about
//!   the cluster (node table, links, parameters, resources, uuids).
//! * [`auth`]: `apiauth` entries with the built-in defaults (docs/behaviour.md §7.5) and
//!   the peer credentials of a connection.
//! * [`server`]: [`ApiServer`], the client table: sign-on, requests, asynchronous
//!   delivery, named clients' cluster messages, flow control (docs/behaviour.md §7.4,
//!   §7.6, §7.7, §7.8, §7.9). It returns [`Action`]s for the daemon to carry out.
//! * [`report`]: the operator reports of our extension requests (`cl_status metrics`,
//!   `cl_status explain`): a snapshot rendered as Prometheus text or plain words.
//! * [`wire`]: reply encoding (classic text + NUL), the C `sscanf`/`atoi`
//!   number rules and message dumps for the log.
//!
//! The daemon's part is mechanical: accept → [`ApiServer::connect`] with the
//! `SO_PEERCRED` values; each complete frame (`hb_proto::ipc::FrameDecoder`)
//! → [`ApiServer::input`]; each message the cluster layer delivers locally →
//! [`ApiServer::deliver`] (or [`ApiServer::on_cluster_message`] for
//! `query-cstatus`/`respond-cstatus`); EOF or a write error →
//! [`ApiServer::disconnect`]; after writing → [`ApiServer::backlog`]; every
//! 9 s → [`ApiServer::audit`]. It then performs the returned actions in
//! order.
#![deny(missing_docs)]

pub mod auth;
pub mod report;
pub mod requests;
pub mod server;
pub mod table;
pub mod view;
pub mod wire;

pub use auth::{AuthEntry, AuthTable, PeerCred};
pub use server::{Action, ApiConfig, ApiServer, ConnId, ConnectError, Treatment};
pub use table::TableView;
pub use view::{ClusterView, LinkInfo, NodeInfo, NodeType, ResourceHolding};
