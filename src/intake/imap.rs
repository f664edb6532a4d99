//! The town mailbox over IMAP (async-imap): connect with TLS, STARTTLS or — only on this machine — in clear; list
//! the messages not yet handled; fetch one; mark it handled (moved to a folder, or flagged); wait for new mail
//! with IDLE where the server offers it. What a message becomes is decided elsewhere (`crate::mail_intake`).

use crate::config::ImapConfig;
use async_imap::Session;
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The keyword taken mails get with `mark = "flag"` (and what the search skips).
pub const DONE_KEYWORD: &str = "$CitizenhourDone";
/// The keyword unusable mails get in addition, with `mark = "flag"`.
pub const SKIPPED_KEYWORD: &str = "$CitizenhourSkipped";
/// Connecting, logging in and every command give up after this long (a server that stops answering).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("imap: cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("imap: TLS with {host}: {detail}")]
    Tls { host: String, detail: String },
    #[error("imap: login as {user} refused: {detail}")]
    Login { user: String, detail: String },
    #[error("imap: {command}: {detail}")]
    Command { command: &'static str, detail: String },
    #[error("imap: {0} timed out")]
    Timeout(&'static str),
}

/// Anything the IMAP client can run over: a TCP stream, with or without TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}

type ImapSession = Session<Box<dyn Io>>;

/// A message waiting in the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub uid: u32,
    pub size: u32,
}

/// A logged-in connection with the intake folder selected.
pub struct ImapMailbox {
    session: ImapSession,
    config: ImapConfig,
    /// `user@host/folder`: with `uidvalidity`, what makes a UID unique.
    pub name: String,
    pub uidvalidity: u32,
    can_move: bool,
    can_idle: bool,
}

async fn timed<T>(what: &'static str, f: impl Future<Output = T>) -> Result<T, ImapError> {
    tokio::time::timeout(COMMAND_TIMEOUT, f).await.map_err(|_| ImapError::Timeout(what))
}

fn cmd(command: &'static str) -> impl Fn(async_imap::error::Error) -> ImapError {
    move |e| ImapError::Command { command, detail: e.to_string() }
}

fn tls_connector(ca_file: &str) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if !ca_file.is_empty() {
        let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("imap.ca_file {ca_file}: {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("imap.ca_file {ca_file}: {e}"))?;
            roots.add(cert).map_err(|e| format!("imap.ca_file {ca_file}: {e}"))?;
        }
    }
    if roots.is_empty() {
        return Err("no trusted root certificates on this system (install ca-certificates)".into());
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn wrap_tls(host: &str, ca_file: &str, tcp: TcpStream) -> Result<Box<dyn Io>, ImapError> {
    let tls_err = |detail: String| ImapError::Tls { host: host.to_owned(), detail };
    let connector = tls_connector(ca_file).map_err(tls_err)?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| tls_err(e.to_string()))?;
    let stream = timed("TLS handshake", connector.connect(name, tcp)).await?.map_err(|e| tls_err(e.to_string()))?;
    Ok(Box::new(stream))
}

impl ImapMailbox {
    /// Connects, logs in, creates the handled/skipped folders if needed and selects the intake folder.
    pub async fn connect(config: &ImapConfig) -> Result<ImapMailbox, ImapError> {
        let addr = format!("{}:{}", config.host, config.port);
        let tcp = timed("connect", TcpStream::connect(&addr))
            .await?
            .map_err(|source| ImapError::Connect { addr: addr.clone(), source })?;
        let stream: Box<dyn Io> = match config.tls.as_str() {
            "tls" => wrap_tls(&config.host, &config.ca_file, tcp).await?,
            "starttls" => {
                let mut client = async_imap::Client::new(tcp);
                timed("greeting", client.read_response())
                    .await?
                    .map_err(|e| ImapError::Connect { addr: addr.clone(), source: e })?;
                timed("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?.map_err(cmd("STARTTLS"))?;
                wrap_tls(&config.host, &config.ca_file, client.into_inner()).await?
            }
            _ => Box::new(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        if config.tls != "starttls" {
            // After STARTTLS there is no second greeting.
            let greeting = timed("greeting", client.read_response())
                .await?
                .map_err(|source| ImapError::Connect { addr: addr.clone(), source })?;
            if greeting.is_none() {
                return Err(ImapError::Command { command: "greeting", detail: "connection closed".into() });
            }
        }
        let password = config.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
        let mut session = timed("LOGIN", client.login(&config.username, password))
            .await?
            // The error text is the server's; the password is not in it.
            .map_err(|(e, _)| ImapError::Login { user: config.username.clone(), detail: e.to_string() })?;
        let caps = timed("CAPABILITY", session.capabilities()).await?.map_err(cmd("CAPABILITY"))?;
        let can_move = caps.has_str("MOVE");
        let can_idle = caps.has_str("IDLE");
        if config.mark == "move" {
            for folder in [&config.handled_folder, &config.skipped_folder] {
                // An existing folder answers NO [ALREADYEXISTS]; a real problem shows at the first move.
                let _ = timed("CREATE", session.create(folder)).await?;
            }
        }
        let selected = timed("SELECT", session.select(&config.folder)).await?.map_err(cmd("SELECT"))?;
        let uidvalidity = selected
            .uid_validity
            .ok_or_else(|| ImapError::Command { command: "SELECT", detail: "the server sent no UIDVALIDITY".into() })?;
        Ok(ImapMailbox {
            session,
            name: format!("{}@{}/{}", config.username, config.host, config.folder),
            config: config.clone(),
            uidvalidity,
            can_move,
            can_idle,
        })
    }

    /// Messages not handled yet, oldest first, with their sizes (nothing is downloaded).
    pub async fn waiting(&mut self) -> Result<Vec<Waiting>, ImapError> {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
        let query = if self.config.mark == "flag" { format!("UNKEYWORD {DONE_KEYWORD}") } else { "ALL".into() };
        let uids = timed("SEARCH", self.session.uid_search(query)).await?.map_err(cmd("UID SEARCH"))?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        let mut out = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(500) {
            let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let fetches: Vec<_> = timed("FETCH", async {
                self.session.uid_fetch(&set, "(UID RFC822.SIZE)").await?.try_collect::<Vec<_>>().await
            })
            .await?
            .map_err(cmd("UID FETCH RFC822.SIZE"))?;
            out.extend(fetches.iter().filter_map(|f| Some(Waiting { uid: f.uid?, size: f.size.unwrap_or(0) })));
        }
        out.sort_by_key(|w| w.uid);
        Ok(out)
    }

    /// The raw message (without setting \Seen: a message stays unread for staff until it is handled).
    pub async fn fetch(&mut self, uid: u32) -> Result<Vec<u8>, ImapError> {
        let fetches: Vec<_> = timed("FETCH", async {
            self.session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await?.try_collect::<Vec<_>>().await
        })
        .await?
        .map_err(cmd("UID FETCH BODY[]"))?;
        fetches
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
            .ok_or_else(|| ImapError::Command { command: "UID FETCH BODY[]", detail: format!("message {uid} is gone") })
    }

    /// Marks a message handled: moved to the handled (`taken`) or skipped folder, or flagged.
    pub async fn mark(&mut self, uid: u32, taken: bool) -> Result<(), ImapError> {
        let uid_s = uid.to_string();
        if self.config.mark == "flag" {
            let flags = if taken {
                format!("+FLAGS.SILENT ({DONE_KEYWORD})")
            } else {
                format!("+FLAGS.SILENT ({DONE_KEYWORD} {SKIPPED_KEYWORD})")
            };
            timed("STORE", async { self.session.uid_store(&uid_s, flags).await?.try_collect::<Vec<_>>().await })
                .await?
                .map_err(cmd("UID STORE"))?;
            return Ok(());
        }
        let folder = if taken { &self.config.handled_folder } else { &self.config.skipped_folder };
        if self.can_move {
            timed("MOVE", self.session.uid_mv(&uid_s, folder)).await?.map_err(cmd("UID MOVE"))?;
        } else {
            // RFC 3501 without MOVE: copy, flag deleted, expunge only this UID (UIDPLUS) — a crash in between
            // leaves a copy in both folders, and the receipt keeps it from being taken twice.
            timed("COPY", self.session.uid_copy(&uid_s, folder)).await?.map_err(cmd("UID COPY"))?;
            timed("STORE", async {
                self.session.uid_store(&uid_s, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await
            })
            .await?
            .map_err(cmd("UID STORE"))?;
            timed("EXPUNGE", async { self.session.uid_expunge(&uid_s).await?.try_collect::<Vec<_>>().await })
                .await?
                .map_err(cmd("UID EXPUNGE"))?;
        }
        Ok(())
    }

    /// Waits up to `max` for new mail: IDLE where offered (returns as soon as the server reports a change),
    /// else a plain sleep followed by NOOP.
    pub async fn wait_for_mail(self, max: Duration) -> Result<ImapMailbox, ImapError> {
        let ImapMailbox { session, config, name, uidvalidity, can_move, can_idle } = self;
        let session = if can_idle {
            let mut idle = session.idle();
            timed("IDLE", idle.init()).await?.map_err(cmd("IDLE"))?;
            let (wait, _stop) = idle.wait_with_timeout(max);
            let woke = tokio::time::timeout(max + Duration::from_secs(5), wait).await;
            if let Ok(Err(e)) = woke {
                return Err(cmd("IDLE")(e));
            }
            timed("DONE", idle.done()).await?.map_err(cmd("IDLE DONE"))?
        } else {
            tokio::time::sleep(max).await;
            let mut s = session;
            timed("NOOP", s.noop()).await?.map_err(cmd("NOOP"))?;
            s
        };
        while session.unsolicited_responses.try_recv().is_ok() {}
        Ok(ImapMailbox { session, config, name, uidvalidity, can_move, can_idle })
    }

    pub async fn logout(mut self) {
        let _ = timed("LOGOUT", self.session.logout()).await;
    }
}
