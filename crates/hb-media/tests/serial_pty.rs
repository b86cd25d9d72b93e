//! Serial media over a socat pty pair (no network involved): line setup,
//! chunked paced writes, classic-frame reassembly, CR and bit-8 stripping.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hb_media::{chunk_delay, open, MediaError, Medium, MediumSockets, MAXMSG};
use nix::sys::termios::{
    tcgetattr, ControlFlags, InputFlags, LocalFlags, OutputFlags, SpecialCharacterIndices,
};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A socat-made "null modem": two ptys whose traffic socat relays.
struct Cable {
    child: Child,
    dir: PathBuf,
}

impl Cable {
    fn new() -> Cable {
        common::require("socat", "-V", "socat");
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("hbm-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let end = |name: &str| format!("pty,raw,echo=0,link={}", dir.join(name).display());
        let child = Command::new("socat")
            .args(["-d", "-d", &end("x"), &end("y")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn socat (install the `socat` package)");
        let cable = Cable { child, dir };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(cable.x().exists() && cable.y().exists()) {
            assert!(
                Instant::now() < deadline,
                "socat did not create its ptys within 5 s"
            );
            thread::sleep(Duration::from_millis(20));
        }
        cable
    }

    fn x(&self) -> PathBuf {
        self.dir.join("x")
    }

    fn y(&self) -> PathBuf {
        self.dir.join("y")
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serial(path: &Path, baud: u32) -> MediumSockets {
    let m = Medium::Serial {
        device: path.display().to_string(),
        baud,
    };
    let s = open(&m).unwrap_or_else(|e| panic!("open: {e}"));
    s.set_recv_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s
}

fn big_frame(lines: usize) -> Vec<u8> {
    let mut f = b">>>\nt=status\n".to_vec();
    for i in 0..lines {
        f.extend_from_slice(format!("k{i}=0123456789abcdefghijklmnopqrstuvwxyz\n").as_bytes());
    }
    f.extend_from_slice(b"<<<\n");
    f
}

#[test]
fn tty_is_set_up_as_heartbeat_does() {
    let cable = Cable::new();
    let x = serial(&cable.x(), 19200);
    assert_eq!(
        x.describe(),
        format!(
            "Starting serial heartbeat on tty {} (19200 baud)",
            cable.x().display()
        )
    );
    let t = tcgetattr(x.recv_fd()).expect("tcgetattr");
    for f in [
        InputFlags::INPCK,
        InputFlags::ISTRIP,
        InputFlags::IGNCR,
        InputFlags::BRKINT,
    ] {
        assert!(t.input_flags.contains(f), "{f:?} set");
    }
    for f in [
        InputFlags::IGNBRK,
        InputFlags::IXANY,
        InputFlags::IXOFF,
        InputFlags::IXON,
        InputFlags::ICRNL,
        InputFlags::PARMRK,
    ] {
        assert!(!t.input_flags.contains(f), "{f:?} cleared");
    }
    assert!(!t.output_flags.contains(OutputFlags::OPOST));
    assert!(t
        .control_flags
        .contains(ControlFlags::CS8 | ControlFlags::CREAD | ControlFlags::CLOCAL));
    assert!(!t.control_flags.contains(ControlFlags::PARENB));
    assert!(!t
        .local_flags
        .intersects(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG));
    assert_eq!(t.control_chars[SpecialCharacterIndices::VMIN as usize], 1);
    assert_eq!(t.control_chars[SpecialCharacterIndices::VTIME as usize], 1);
}

#[test]
fn multi_chunk_frames_cross_the_cable_in_order() {
    let cable = Cable::new();
    let (x, y) = (serial(&cable.x(), 460_800), serial(&cable.y(), 460_800));
    let first = big_frame(40); // > 3 chunks of 512 bytes
    assert!(first.len() > 3 * 512);
    let second = b">>>\nt=second\n<<<\n".to_vec();
    x.send(&first).expect("send first");
    x.send(&second).expect("send second");
    let mut buf = vec![0u8; MAXMSG];
    let n = y.recv(&mut buf).expect("first frame");
    assert_eq!(&buf[..n], &first[..]);
    let n = y.recv(&mut buf).expect("second frame");
    assert_eq!(&buf[..n], &second[..]);
    // And the other direction on the same tty.
    y.send(&second).expect("send back");
    let n = x.recv(&mut buf).expect("reply");
    assert_eq!(&buf[..n], &second[..]);
}

#[test]
fn chunks_are_paced_to_the_line_speed() {
    let cable = Cable::new();
    let (x, y) = (serial(&cable.x(), 19200), serial(&cable.y(), 19200));
    let frame = big_frame(30); // 3 chunks: 2 pauses
    assert!(
        frame.len() > 2 * 512 && frame.len() <= 3 * 512,
        "{}",
        frame.len()
    );
    let start = Instant::now();
    x.send(&frame).expect("send");
    let took = start.elapsed();
    assert!(
        took >= 2 * chunk_delay(19200),
        "3 chunks at 19200 took only {took:?}"
    );
    let mut buf = vec![0u8; MAXMSG];
    let n = y.recv(&mut buf).expect("frame");
    assert_eq!(&buf[..n], &frame[..]);
}

#[test]
fn input_drops_carriage_returns_and_strips_bit_8() {
    let cable = Cable::new();
    let (x, y) = (serial(&cable.x(), 460_800), serial(&cable.y(), 460_800));
    x.send(b">>>\r\nk=v\xc1\r\n<<<\r\n").expect("send");
    let mut buf = vec![0u8; MAXMSG];
    let n = y.recv(&mut buf).expect("frame");
    assert_eq!(&buf[..n], b">>>\nk=vA\n<<<\n");
}

#[test]
fn netstring_packets_are_refused_and_silence_times_out() {
    let cable = Cable::new();
    let (x, y) = (serial(&cable.x(), 460_800), serial(&cable.y(), 460_800));
    let e = x.send(b"###\n4:t=st,\n%%%\n").expect_err("netstring");
    assert!(matches!(e, MediaError::NotClassicFrame { .. }), "{e}");
    y.set_recv_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = vec![0u8; 1024];
    let e = y.recv(&mut buf).expect_err("nothing was sent");
    assert!(
        e.io_error()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut),
        "{e}"
    );
}

#[test]
fn write_child_reports_a_stuck_line_as_write_timeout() {
    // Nobody reads y: once the pty and socat buffers are full, chunks stop
    // being accepted and the write child must time out, not hang.
    let cable = Cable::new();
    let x = serial(&cable.x(), 460_800);
    let _y = serial(&cable.y(), 460_800);
    let (mut master, child) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    let frame = big_frame(100);
    let writer = thread::spawn(move || {
        use std::io::Write;
        // Bounded: at most 1 MiB of frames (the buffers hold ~300 KiB), then
        // the channel closes.
        for _ in 0..(1 << 20) / frame.len() {
            if master
                .write_all(&hb_proto::ipc::encode_frame(&frame))
                .is_err()
            {
                break;
            }
        }
    });
    let mut failed = 0;
    let mut sent = 0;
    let mut discarded = 0;
    let start = Instant::now();
    let code = hb_media::write_child_loop(&x, child, Duration::from_millis(100), |d| match d {
        hb_media::StatDelta::WriteFailed => failed += 1,
        hb_media::StatDelta::Sent { .. } => sent += 1,
        hb_media::StatDelta::Discarded { count } => discarded += count,
        _ => {}
    });
    let _ = writer.join();
    eprintln!(
        "sent {sent} failed {failed} discarded {discarded} in {:?}",
        start.elapsed()
    );
    assert_eq!(code, hb_media::EXIT_GENERIC, "exits when the master closes");
    assert!(sent > 0, "the line accepted data at first");
    assert!(failed > 0, "a full line must produce write timeouts");
    assert!(
        discarded > 0,
        "queued frames are thrown away after a timeout"
    );
}
