// The API input driver shared by the cargo-fuzz target (fuzz/fuzz_targets/api_input.rs, which
// `include!`s this file) and the bounded replay in tests/api_input_replay.rs: one input is a
// control byte and a byte stream that is cut into chunks, spread over up to four
// connections, reassembled by the IPC frame decoder and handed to `ApiServer::input`, exactly
// as the daemon does. Plain `//` comments only: this file is included as items.

/// Drives an `ApiServer` with `data`; panics only when an invariant is broken. Returns the
/// number of replies the server sent (so a caller can tell a conversation really happened).
pub fn drive_api(data: &[u8]) -> usize {
    use hb_api::{Action, ApiConfig, ApiServer, AuthTable, PeerCred, TableView};
    use hb_proto::ipc::FrameDecoder;

    const MAX_CLIENTS: usize = 3;
    let Some((&ctl, stream)) = data.split_first() else {
        return 0;
    };
    let mut replies = 0usize;
    let step = usize::from(ctl & 0x3f).max(1);
    let conns = u64::from(ctl >> 6) + 1;
    let mut view = TableView::observed();
    view.live_pids = Some(vec![100, 101, 102, 103]);
    let mut cfg = ApiConfig::new(AuthTable::with_builtins(108, 105), 0);
    cfg.max_clients = MAX_CLIENTS;
    let mut server = ApiServer::new(cfg);
    let mut decoders: Vec<FrameDecoder> = (0..conns).map(|_| FrameDecoder::new()).collect();
    let mut open: Vec<bool> = Vec::new();
    for c in 0..conns {
        let peer = PeerCred {
            pid: 100 + i32::try_from(c).unwrap_or(0),
            uid: if c == 0 { 0 } else { 108 },
            gid: 105,
        };
        open.push(server.connect(c, peer).is_ok());
    }
    // Carries out the actions the way the daemon does; checks what the server produced.
    fn perform(
        actions: Vec<Action>,
        server: &mut ApiServer,
        view: &TableView,
        depth: usize,
    ) -> usize {
        let mut replies = 0;
        for a in actions {
            match a {
                Action::Reply { payload, .. } => {
                    replies += 1;
                    assert!(
                        payload.len() <= hb_proto::MAXMSG,
                        "reply of {} bytes",
                        payload.len()
                    );
                    let body = payload.strip_suffix(&[0]).unwrap_or(&payload);
                    assert!(
                        hb_proto::decode_any(body).is_ok(),
                        "the server sent an undecodable reply: {:?}",
                        String::from_utf8_lossy(body)
                    );
                }
                Action::SendToCluster(msg) => {
                    // The daemon processes its own copy at once.
                    if depth < 4 {
                        let more = server.deliver(&msg, view);
                        replies += perform(more, server, view, depth + 1);
                    }
                }
                Action::Signal { signal, .. } => assert_ne!(signal, 0, "signal 0 requested"),
                Action::Close { .. } | Action::Log { .. } => {}
            }
        }
        replies
    }
    for (i, chunk) in stream.chunks(step).enumerate() {
        let conn = (i as u64) % conns;
        let idx = usize::try_from(conn).unwrap_or(0);
        if !open[idx] {
            continue;
        }
        decoders[idx].push(chunk);
        loop {
            match decoders[idx].next_frame() {
                Ok(Some(payload)) => {
                    let actions = server.input(conn, &payload, &view);
                    let closed = actions
                        .iter()
                        .any(|a| matches!(a, Action::Close { conn: c } if *c == conn));
                    replies += perform(actions, &mut server, &view, 0);
                    if closed {
                        open[idx] = false;
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    let actions = server.disconnect(conn, "badmsg", &view);
                    replies += perform(actions, &mut server, &view, 0);
                    open[idx] = false;
                    break;
                }
            }
        }
        if i % 7 == 6 {
            let actions = server.backlog(conn, i % 80, &view);
            replies += perform(actions, &mut server, &view, 0);
        }
        assert!(server.connection_count() <= MAX_CLIENTS);
    }
    let actions = server.audit(&view);
    replies += perform(actions, &mut server, &view, 0);
    replies
}
