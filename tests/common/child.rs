//! The real `graphbridge serve` binary as a child process on ephemeral loopback ports.

use std::{
    io::{BufRead, BufReader},
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
    /// Starts `graphbridge serve` with JSON logs, `extra` flags and `env`, and waits for `serving`.
    pub fn start(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_graphbridge"))
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--log-format", "json"])
            .args(extra)
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
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
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
            if let Ok(log) = serde_json::from_str::<Value>(&line)
                && log["message"] == "serving"
            {
                server.api = log["api"].as_str().expect("api address").to_owned();
                server.admin = log["admin"].as_str().expect("admin address").to_owned();
                return server;
            }
        }
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
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.terminate();
    }
}
