//! A real `redis-server` for tests: its own process on a free loopback port, no
//! persistence, stopped when dropped.
//!
//! Without the binary a test is skipped with a printed reason (never silently); in CI
//! (`CI=true`) a missing binary fails the test, since `.ci/run` installs it.
//!
//! ```ignore
//! let Some(mut redis) = RedisServer::start() else { return };
//! let url = redis.url();       // redis://127.0.0.1:PORT/
//! redis.stop();                // kill it mid-test
//! redis.restart();             // again on the same port
//! ```

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The binary: `REDIS_SERVER` when set, else `redis-server` on the `PATH`.
fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

/// How long a starting server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A fresh server, answering PING. `None` (with the reason printed) when there is no
    /// `redis-server` and `CI` is not `true`; a panic when `CI=true`.
    pub fn start() -> Option<Self> {
        if let Err(e) = Command::new(binary()).arg("--version").output() {
            let reason = format!("`{}` cannot be run ({e})", binary());
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("{reason}: CI must have redis-server (.ci/run installs it)");
            }
            // Straight to stderr: libtest would hide an `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {}: {reason}; install redis-server to run the Redis tests",
                std::thread::current().name().unwrap_or("a test"),
            );
            return None;
        }
        // A port found free may be taken before the server binds it: then try another.
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn(port) {
                return Some(Self {
                    port,
                    child: Some(child),
                });
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (at once, as a crash would) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing was persisted).
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(
            spawn(self.port)
                .unwrap_or_else(|| panic!("redis-server did not restart on {}", self.port)),
        );
    }

    /// Freezes the server (SIGSTOP): connections open, nothing answered, as a stuck Redis.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server runs").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server would not die of SIGKILL any less, but say CONT to be tidy.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts a server on `port` and polls PING until it answers; `None` if it exited first
/// (the port was taken) or never answered.
fn spawn(port: u16) -> Option<Child> {
    let mut child = Command::new(binary())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return None;
        }
        if ping(port) {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}
