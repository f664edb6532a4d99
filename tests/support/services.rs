//! Real servers on 127.0.0.1, started through the project's scripts in tests/services/.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A free TCP port on loopback (bound once and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services").join(name)
}

/// nginx with the RTMP module (the YouTube Live stand-in); records what it receives into `dir/rec`.
pub struct NginxRtmp {
    pub dir: PathBuf,
    pub port: u16,
}

impl NginxRtmp {
    pub fn start(dir: &Path) -> NginxRtmp {
        let n = NginxRtmp { dir: dir.to_owned(), port: free_port() };
        n.start_again();
        n
    }

    pub fn start_again(&self) {
        let st = Command::new(script("nginx-rtmp.sh"))
            .arg("start")
            .arg(&self.dir)
            .arg(self.port.to_string())
            .status()
            .unwrap();
        assert!(
            st.success(),
            "nginx-rtmp did not start (is libnginx-mod-rtmp installed? deploy/install-deps.sh --test)"
        );
    }

    /// SIGKILL, as a crash of the server.
    pub fn kill(&self) {
        Command::new(script("nginx-rtmp.sh")).arg("kill").arg(&self.dir).status().unwrap();
    }

    pub fn url(&self, key: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live2/{key}", self.port)
    }

    /// The FLV files recorded so far, oldest first.
    pub fn recordings(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.join("rec"))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for NginxRtmp {
    fn drop(&mut self) {
        let _ = Command::new(script("nginx-rtmp.sh")).arg("stop").arg(&self.dir).status();
    }
}

/// Garage, a production S3 server, with one key and a fresh bucket (`tests/services/garage.sh`).
pub struct Garage {
    pub dir: PathBuf,
    pub port: u16,
    pub key_id: String,
    pub secret: String,
    pub bucket: String,
}

impl Garage {
    pub fn start(dir: &Path) -> Garage {
        let hex = |n: usize| -> String {
            use rand::Rng;
            let mut r = rand::rng();
            (0..n).map(|_| format!("{:x}", r.random_range(0..16u8))).collect()
        };
        let g = Garage {
            dir: dir.to_owned(),
            port: free_port(),
            key_id: format!("GK{}", hex(24)),
            secret: hex(64),
            bucket: "buergerstunde".into(),
        };
        let st = Command::new(script("garage.sh"))
            .arg("start")
            .arg(&g.dir)
            .args([g.port.to_string(), free_port().to_string(), free_port().to_string()])
            .args([&g.key_id, &g.secret, &g.bucket])
            .status()
            .unwrap();
        assert!(st.success(), "garage did not start (deploy/install-deps.sh --test installs it)");
        g
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `[publish.s3]` for this server, optionally through another endpoint (a proxy).
    pub fn config(&self, endpoint: Option<String>) -> citizenhour::config::S3Config {
        citizenhour::config::S3Config {
            endpoint: endpoint.unwrap_or_else(|| self.endpoint()),
            region: "garage".into(),
            bucket: self.bucket.clone(),
            prefix: "recordings/".into(),
            access_key_id: self.key_id.clone(),
            secret_access_key: Some(self.secret.clone().into()),
            path_style: true,
            public_base_url: "https://cdn.musterstadt.example/".into(),
            part_size_mib: 5,
        }
    }

    /// The same settings as `CITIZENHOUR__PUBLISH__S3__*` environment variables (for a worker process).
    pub fn env(&self, endpoint: Option<String>) -> Vec<(String, String)> {
        let c = self.config(endpoint);
        [
            ("ENDPOINT", c.endpoint),
            ("REGION", c.region),
            ("BUCKET", c.bucket),
            ("PREFIX", c.prefix),
            ("ACCESS_KEY_ID", c.access_key_id),
            ("SECRET_ACCESS_KEY", self.secret.clone()),
            ("PUBLIC_BASE_URL", c.public_base_url),
            ("PART_SIZE_MIB", c.part_size_mib.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("CITIZENHOUR__PUBLISH__S3__{k}"), v))
        .collect()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = Command::new(script("garage.sh")).arg("stop").arg(&self.dir).status();
    }
}

/// A TCP proxy on 127.0.0.1 that counts the bytes clients send upstream and can throttle them: the tests'
/// measure of what an upload really sent (including everything sent again after a crash).
pub struct CountingProxy {
    pub port: u16,
    pub upstream_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Forwards to `upstream` (`host:port`); `bytes_per_second` limits what clients send (0: unlimited).
    pub async fn start(upstream: String, bytes_per_second: u64) -> CountingProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = counter.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let up = upstream.clone();
                let c = c.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let Ok(server) = tokio::net::TcpStream::connect(&up).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let down = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    });
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        c.fetch_add(n as u64, Ordering::SeqCst);
                        if bytes_per_second > 0 {
                            tokio::time::sleep(std::time::Duration::from_secs_f64(n as f64 / bytes_per_second as f64))
                                .await;
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                    let _ = down.await;
                });
            }
        });
        CountingProxy { port, upstream_bytes: counter, task }
    }

    pub fn sent(&self) -> u64 {
        self.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An SMTP sink (aiosmtpd) storing each accepted message in `dir/Maildir/new`.
pub struct SmtpSink {
    pub dir: PathBuf,
    pub port: u16,
}

impl SmtpSink {
    pub fn start(dir: &Path) -> SmtpSink {
        let s = SmtpSink { dir: dir.to_owned(), port: free_port() };
        s.start_again();
        s
    }

    pub fn start_again(&self) {
        let st = Command::new(script("smtp-sink.sh")).arg("start").arg(&self.dir).arg(self.port.to_string()).status();
        assert!(st.unwrap().success(), "SMTP sink did not start (deploy/install-deps.sh --test installs aiosmtpd)");
    }

    pub fn stop(&self) {
        let _ = Command::new(script("smtp-sink.sh")).arg("stop").arg(&self.dir).status();
    }

    /// The raw messages received so far.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("Maildir/new"))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Dovecot with one mailbox (`townhall` / `secret`) on 127.0.0.1: IMAP for the intake, LMTP to deliver test mail.
pub struct Dovecot {
    pub dir: PathBuf,
    pub imap_port: u16,
    /// Implicit TLS (0 when started without TLS); STARTTLS is then offered on `imap_port` too.
    pub imaps_port: u16,
    pub lmtp_port: u16,
    pub user: String,
    pub password: String,
}

impl Dovecot {
    pub fn start(dir: &Path) -> Dovecot {
        Self::start_with(dir, false, "")
    }

    /// Advertising only `capability` after login (e.g. without MOVE and IDLE).
    pub fn start_with_capability(dir: &Path, capability: &str) -> Dovecot {
        Self::start_with(dir, false, capability)
    }

    /// With TLS (implicit and STARTTLS) under a test CA of its own: [`Dovecot::ca_file`].
    pub fn start_tls(dir: &Path) -> Dovecot {
        Self::start_with(dir, true, "")
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn start_with(dir: &Path, tls: bool, capability: &str) -> Dovecot {
        let d = Dovecot {
            dir: dir.join("dovecot"),
            imap_port: free_port(),
            imaps_port: if tls { free_port() } else { 0 },
            lmtp_port: free_port(),
            user: "townhall".into(),
            password: "secret-imap-password".into(),
        };
        let st = Command::new(script("dovecot.sh"))
            .arg("start")
            .arg(&d.dir)
            .args([d.imap_port.to_string(), d.lmtp_port.to_string(), d.user.clone(), d.password.clone()])
            .arg(d.imaps_port.to_string())
            .env("DOVECOT_IMAP_CAPABILITY", capability)
            .status();
        assert!(st.unwrap().success(), "Dovecot did not start (deploy/install-deps.sh --test installs it)");
        d
    }

    /// Delivers a raw message over LMTP as the town's mail server would for the public address `rcpt`.
    pub fn deliver(&self, rcpt: &str, raw: &[u8]) {
        use std::io::{BufRead, BufReader, Write};
        let stream = std::net::TcpStream::connect(("127.0.0.1", self.lmtp_port)).expect("LMTP connect");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut w = stream;
        let expect = |reader: &mut BufReader<std::net::TcpStream>, code: &str| {
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                assert!(line.starts_with(code), "LMTP: expected {code}, got {line:?}");
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        };
        expect(&mut reader, "220");
        write!(w, "LHLO test.local\r\n").unwrap();
        expect(&mut reader, "250");
        write!(w, "MAIL FROM:<sender@example.org>\r\n").unwrap();
        expect(&mut reader, "250");
        // The town's mail server resolves its public address to this mailbox; a plus tag stays in the envelope.
        let tag =
            rcpt.split('@').next().and_then(|l| l.split_once('+')).map(|(_, t)| format!("+{t}")).unwrap_or_default();
        write!(w, "RCPT TO:<{}{tag}@musterstadt.example>\r\n", self.user).unwrap();
        expect(&mut reader, "250");
        write!(w, "DATA\r\n").unwrap();
        expect(&mut reader, "354");
        // Dot-stuffing, CRLF line ends; a body without a final line end gets one.
        let mut data = Vec::with_capacity(raw.len() + 64);
        for line in raw.split_inclusive(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        w.write_all(&data).unwrap();
        expect(&mut reader, "250");
        write!(w, "QUIT\r\n").unwrap();
    }

    /// Messages in a folder (`INBOX` or a folder the intake created), counted in the Maildir itself.
    pub fn count(&self, folder: &str) -> usize {
        let base = self.dir.join("mail").join(&self.user).join("Maildir");
        let base = if folder == "INBOX" { base } else { base.join(format!(".{folder}")) };
        ["new", "cur"].iter().map(|d| std::fs::read_dir(base.join(d)).map(|r| r.count()).unwrap_or(0)).sum()
    }

    /// `doveadm search` in a folder: the number of messages matching `query` (e.g. `KEYWORD $CitizenhourDone`).
    pub fn search(&self, folder: &str, query: &[&str]) -> usize {
        let out = Command::new(script("dovecot.sh"))
            .args(["doveadm".as_ref(), self.dir.as_os_str()])
            .args(["search", "-u", &self.user, "mailbox", folder])
            .args(query)
            .output()
            .unwrap();
        assert!(out.status.success(), "doveadm search: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(script("dovecot.sh")).arg("stop").arg(&self.dir).status();
    }
}
