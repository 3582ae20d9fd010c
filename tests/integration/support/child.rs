//! The real `graphbridge serve` binary as a child process on ephemeral loopback ports.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server; dropping it sends SIGTERM (SIGKILL if that is not enough).
pub struct ChildServer {
    child: Child,
    pub api: String,
    pub admin: String,
    /// Every stderr line (JSON log lines), including those read before `serving`.
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ChildServer {
    /// Starts `graphbridge serve` on ephemeral ports with `extra` flags and `env` (nothing of the
    /// test's own RUST_LOG), and waits for the `serving` line, in either log format.
    pub fn start(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(crate::GRAPHBRIDGE)
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start graphbridge");
        let stderr = child.stderr.take().expect("piped stderr");
        // Keeps draining stderr so the server never blocks on a full pipe.
        let (lines_tx, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut stderr = BufReader::new(stderr);
            let mut line = Vec::new();
            // Bytes, not `lines()`: a line that is not UTF-8 must reach the assertions too.
            while stderr.read_until(b'\n', &mut line).is_ok_and(|read| read > 0) {
                let text = String::from_utf8_lossy(&line).trim_end_matches('\n').to_owned();
                if lines_tx.send(text).is_err() {
                    break;
                }
                line.clear();
            }
        });
        let mut server = ChildServer { child, api: String::new(), admin: String::new(), lines, seen: Vec::new() };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let line = match server.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => line,
                Err(error) => panic!("no `serving` log line ({error}); stderr so far: {:#?}", server.seen),
            };
            server.seen.push(line.clone());
            if let Some((api, admin)) = serving_addresses(&line) {
                (server.api, server.admin) = (api, admin);
                return server;
            }
        }
    }

    /// The API port's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api.parse().expect("a socket address")
    }

    /// The admin port's address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.parse().expect("a socket address")
    }

    /// The process id, e.g. to read its memory from `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sigterm(&self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after the timeout); idempotent.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        self.sigterm();
        self.wait(TIMEOUT).unwrap_or_else(|| {
            let _ = self.child.kill();
            self.child.wait().expect("wait for killed graphbridge")
        })
    }

    /// Every stderr line so far (after the process ended: all of them).
    pub fn log_lines(&mut self) -> Vec<String> {
        self.seen.extend(self.lines.try_iter());
        self.seen.clone()
    }

    /// SIGTERM, asserts a clean exit, and returns every line the server wrote.
    pub fn stop(mut self) -> Vec<String> {
        let status = self.terminate();
        assert!(status.success(), "graphbridge exited with {status} on SIGTERM");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return std::mem::take(&mut self.seen),
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("stderr still open after exit: {:#?}", self.seen),
            }
        }
    }
}

/// The API and admin addresses from the `serving` line, as JSON (`{"message":"serving","api":..}`)
/// or text (`... serving api=127.0.0.1:1 admin=127.0.0.1:2 ...`).
pub fn serving_addresses(line: &str) -> Option<(String, String)> {
    if let Ok(log) = serde_json::from_str::<Value>(line) {
        let address = |key: &str| log[key].as_str().map(str::to_owned);
        return (log["message"] == "serving").then(|| address("api").zip(address("admin"))).flatten();
    }
    let field = |name: &str| line.split_whitespace().find_map(|word| word.strip_prefix(name)).map(str::to_owned);
    line.contains(": serving ").then(|| field("api=").zip(field("admin="))).flatten()
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.terminate();
    }
}

const MIB: u64 = 1024 * 1024;

/// (VmRSS, VmHWM) of `pid` in bytes: resident memory now, and its peak.
pub fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {status}"));
        let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB");
        kib * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}
