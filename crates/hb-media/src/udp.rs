//! Carries out a [`SocketPlan`]: creates the socket (close-on-exec), applies
//! the options in order with the plan's failure policy, binds with retries.
//!
//! socket2 provides safe setters for the options nix 0.29 lacks
//! (`IP_MULTICAST_IF`, `IPV6_MULTICAST_IF`, `IPV6_MULTICAST_LOOP`); nix
//! supplies `SO_DONTROUTE`, which socket2 lacks.

use std::io;
use std::net::UdpSocket;
use std::thread;

use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};

use crate::plan::{BindPlan, Family, OnError, Opt, SocketPlan};
use crate::MediaError;

/// Builds one socket from its plan.
pub fn build(label: &str, plan: &SocketPlan) -> Result<UdpSocket, MediaError> {
    let domain = match plan.family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let sock = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(|source| {
        MediaError::Socket {
            medium: label.to_owned(),
            source,
        }
    })?;
    for (opt, on) in &plan.setup {
        apply(label, &sock, opt, *on)?;
    }
    if let Some(b) = &plan.bind {
        bind(label, &sock, b)?;
    }
    for (opt, on) in &plan.after_bind {
        apply(label, &sock, opt, *on)?;
    }
    Ok(sock.into())
}

fn set(sock: &Socket, opt: &Opt) -> io::Result<()> {
    match opt {
        Opt::Broadcast => sock.set_broadcast(true),
        Opt::DontRoute => setsockopt(sock, sockopt::DontRoute, &true).map_err(io::Error::from),
        Opt::BindToDevice(dev) => sock.bind_device(Some(dev.as_bytes())),
        Opt::ReuseAddr => sock.set_reuse_address(true),
        Opt::ReusePort => sock.set_reuse_port(true),
        Opt::Tos(t) => sock.set_tos(*t),
        Opt::McastIfV4(a) => sock.set_multicast_if_v4(a),
        Opt::McastLoopV4(l) => sock.set_multicast_loop_v4(*l),
        Opt::McastTtlV4(t) => sock.set_multicast_ttl_v4(*t),
        Opt::McastIfV6(i) => sock.set_multicast_if_v6(*i),
        Opt::McastLoopV6(l) => sock.set_multicast_loop_v6(*l),
        Opt::McastHopsV6(h) => sock.set_multicast_hops_v6(*h),
        Opt::SndBuf(n) => sock.set_send_buffer_size(*n),
        Opt::RcvBuf(n) => sock.set_recv_buffer_size(*n),
        Opt::JoinV4 { group, iface } => sock.join_multicast_v4(group, iface),
        Opt::JoinV6 { group, index } => sock.join_multicast_v6(group, *index),
    }
}

fn apply(label: &str, sock: &Socket, opt: &Opt, on: OnError) -> Result<(), MediaError> {
    let Err(source) = set(sock, opt) else {
        return Ok(());
    };
    let no_proto = source.raw_os_error() == Some(Errno::ENOPROTOOPT as i32);
    match on {
        OnError::Log => {
            log::error!("{label}: cannot set {opt}: {source}");
            Ok(())
        }
        OnError::FailUnlessNoProtoOpt if no_proto => {
            log::warn!("{label}: cannot set {opt}: {source}");
            Ok(())
        }
        OnError::Fail | OnError::FailUnlessNoProtoOpt => Err(MediaError::SetOption {
            medium: label.to_owned(),
            option: opt.to_string(),
            source,
        }),
    }
}

fn bind(label: &str, sock: &Socket, plan: &BindPlan) -> Result<(), MediaError> {
    let mut attempt = 1;
    loop {
        let source = match sock.bind(&plan.addr.into()) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let in_use = source.raw_os_error() == Some(Errno::EADDRINUSE as i32);
        if attempt >= plan.retry.tries || !(in_use || plan.retry_any_error) {
            return Err(MediaError::Bind {
                medium: label.to_owned(),
                addr: plan.addr,
                source,
            });
        }
        log::error!("{label}: cannot bind {}: {source}; retrying", plan.addr);
        attempt += 1;
        thread::sleep(plan.retry.delay);
    }
}
