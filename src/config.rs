//! Configuration: built-in defaults ← TOML file ← `CITIZENHOUR__SECTION__KEY` environment variables.
//!
//! Every key is documented in `deploy/config.example.toml`. Secrets are [`SecretString`]s: their `Debug`
//! output is redacted, so logging a config never leaks them.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_MAX_QUESTION_CHARS: usize = 1500;
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const ENV_PREFIX: &str = "CITIZENHOUR__";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub town: TownConfig,
    pub intake: IntakeConfig,
    pub media: MediaConfig,
    pub publish: PublishConfig,
    pub youtube: YoutubeConfig,
    pub ingest: IngestConfig,
    #[serde(default)]
    pub mail: MailConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub imap: ImapConfig,
}

/// The town mailbox citizens write their questions to. An empty `host` turns mail intake off.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    pub host: String,
    /// 993 with `tls = "tls"`, 143 otherwise.
    pub port: u16,
    /// `tls` (implicit TLS, default), `starttls`, or `none` (only allowed for a server on this machine).
    pub tls: String,
    /// PEM file with the certificate authority of a town-internal mail server (added to the system's roots).
    pub ca_file: String,
    pub username: String,
    #[serde(serialize_with = "ser_secret_redacted")]
    pub password: Option<SecretString>,
    /// The folder new mail arrives in.
    pub folder: String,
    /// `move` (default): taken mails go to `handled_folder`, unusable ones to `skipped_folder`;
    /// `flag`: they stay and get the keyword `$CitizenhourDone` (for mailboxes staff may not reorganize).
    pub mark: String,
    pub handled_folder: String,
    pub skipped_folder: String,
    /// Seconds between polls when the server does not offer IDLE (and the longest IDLE wait).
    pub poll_seconds: u64,
    /// Messages larger than this are not downloaded but skipped (noted with their size).
    pub max_message_mib: u64,
    /// Answer every taken mail with a confirmation (and the personal link) through `[mail]`.
    pub auto_reply: bool,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            host: String::new(),
            port: 993,
            tls: "tls".into(),
            ca_file: String::new(),
            username: String::new(),
            password: None,
            folder: "INBOX".into(),
            mark: "move".into(),
            handled_folder: "Citizenhour-Erledigt".into(),
            skipped_folder: "Citizenhour-Nicht-verarbeitet".into(),
            poll_seconds: 60,
            max_message_mib: 40,
            auto_reply: false,
        }
    }
}

impl ImapConfig {
    pub fn enabled(&self) -> bool {
        !self.host.is_empty()
    }
}

/// Data protection: how long personal data is kept (enforced by the worker, hourly).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Askers' names and e-mail addresses are deleted this many days after the recording was published (the
    /// answer notices go out right after publishing). 0: keep.
    #[serde(default = "default_personal_days")]
    pub delete_personal_data_after_days: u32,
    /// Rejected questions are deleted this many days after they were handed in. 0: keep.
    #[serde(default = "default_rejected_days")]
    pub delete_rejected_after_days: u32,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            delete_personal_data_after_days: default_personal_days(),
            delete_rejected_after_days: default_rejected_days(),
        }
    }
}

fn default_personal_days() -> u32 {
    30
}
fn default_rejected_days() -> u32 {
    14
}

/// Outgoing mail (answer notices to askers). An empty `smtp_host` turns notices off.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    #[serde(default)]
    pub smtp_host: String,
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (only for a relay on the same host).
    #[serde(default = "default_smtp_tls")]
    pub smtp_tls: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, serialize_with = "ser_secret_redacted")]
    pub password: Option<SecretString>,
    /// Sender, e.g. `Stadt Musterstadt <buergerstunde@musterstadt.example>`.
    #[serde(default)]
    pub from: String,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_tls() -> String {
    "starttls".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// `HOST:PORT` of the SRT listener for OBS (source `obs`); empty: no SRT ingest.
    pub srt_listen: String,
    /// Host name callers use for SRT (in the credentials shown to operators); empty: the listen host.
    pub srt_public_host: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Loopback unless deliberately opened.
    pub bind: String,
    /// Public base URL used in links (pages, e-mails, CLI output). Empty: derived from `bind`.
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory for the database (when `database_url` is empty), recordings and the published site.
    pub data_dir: PathBuf,
    /// `sqlite://…` URL. Empty: `sqlite://<data_dir>/citizenhour.db`.
    pub database_url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TownConfig {
    pub name: String,
    /// Link to the privacy notice shown with the question form.
    pub privacy_url: String,
    /// The town's logo (PNG or JPEG) for the lower third; relative paths are from the working directory.
    /// Empty: no logo.
    #[serde(default)]
    pub logo: String,
}

impl TownConfig {
    pub fn logo_path(&self) -> Option<PathBuf> {
        (!self.logo.trim().is_empty()).then(|| PathBuf::from(self.logo.trim()))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub max_question_chars: usize,
    pub max_body_bytes: usize,
    /// Local part of the town mailbox; `local+<slug>@…` routes a mail to a session.
    pub mailbox_local_part: String,
    /// Question submissions (form and API) one client address may send at once …
    #[serde(default = "default_ip_burst")]
    pub per_ip_burst: u32,
    /// … and then one more every this many milliseconds (6000: 10 a minute). `per_ip_burst = 0`: no limit.
    #[serde(default = "default_ip_every_ms")]
    pub per_ip_every_ms: u64,
    /// Submissions per second from everyone together (a flood from many addresses); 0: no limit.
    #[serde(default = "default_global_per_second")]
    pub global_per_second: u32,
    /// Take the client address from `X-Forwarded-For`/`X-Real-IP` (only behind your own reverse proxy).
    #[serde(default)]
    pub trust_forwarded_for: bool,
}

fn default_ip_burst() -> u32 {
    20
}
fn default_ip_every_ms() -> u64 {
    6000
}
fn default_global_per_second() -> u32 {
    200
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub video_bitrate_kbit: u32,
    pub audio_bitrate: u32,
    /// Fragment length of the crash-safe recording, in milliseconds.
    pub fragment_ms: u64,
    /// A source that sends no video for this long is replaced by the slate until it sends again.
    pub stall_timeout_ms: u64,
    /// Program loudness target in LUFS (EBU R 128 measurement); absent: measure only, no gain control.
    pub loudness_target_lufs: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// HLS ladder file; empty: the built-in `pipelines/ladder.toml`.
    pub ladder_file: String,
    pub segment_seconds: u32,
    /// Run the publishing worker inside `serve` (else run `citizenhour worker` separately).
    #[serde(default = "yes")]
    pub worker: bool,
    /// Where recordings go besides the local site (always published): `s3`, `youtube`. Sessions may override
    /// this (`citizenhour session targets`).
    #[serde(default)]
    pub targets: Vec<String>,
    /// S3-compatible storage (AWS S3, Garage, Ceph RGW, MinIO …); needed when a target is `s3`.
    #[serde(default)]
    pub s3: Option<S3Config>,
}

/// Publish targets besides the always-published local site.
pub const PUBLISH_TARGETS: &[&str] = &["s3", "youtube"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint URL, e.g. `https://s3.eu-central-1.amazonaws.com` or `http://127.0.0.1:3900` (Garage). Empty: AWS
    /// for `region`.
    #[serde(default)]
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Key prefix inside the bucket, e.g. `buergerstunde/`.
    #[serde(default)]
    pub prefix: String,
    pub access_key_id: String,
    #[serde(serialize_with = "ser_secret_redacted")]
    pub secret_access_key: Option<SecretString>,
    /// Path-style addressing (`endpoint/bucket/key`), which Garage, Ceph RGW and MinIO want by default.
    #[serde(default = "yes")]
    pub path_style: bool,
    /// Where citizens fetch the files (a CDN or the bucket's website endpoint), without the key. Empty:
    /// `endpoint/bucket`.
    #[serde(default)]
    pub public_base_url: String,
    /// Multipart part size in MiB (S3 allows 5–5120); files larger than one part are uploaded in parts, which
    /// resume after a restart.
    #[serde(default = "default_part_mib")]
    pub part_size_mib: u64,
}

fn default_part_mib() -> u64 {
    8
}

impl S3Config {
    /// Public URL of an object key.
    pub fn public_url(&self, key: &str) -> String {
        let base = if self.public_base_url.trim().is_empty() {
            format!("{}/{}", self.endpoint.trim_end_matches('/'), self.bucket)
        } else {
            self.public_base_url.trim().trim_end_matches('/').to_owned()
        };
        format!("{base}/{key}")
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YoutubeConfig {
    /// RTMP ingest URL for YouTube Live.
    pub rtmp_url: String,
    #[serde(serialize_with = "ser_secret_redacted")]
    pub stream_key: Option<SecretString>,
    /// OAuth client of the town's Google Cloud project (for the "youtube" publish target).
    #[serde(default)]
    pub client_id: String,
    #[serde(default, serialize_with = "ser_secret_redacted")]
    pub client_secret: Option<SecretString>,
    /// Refresh token of the channel's account (scope youtube.force-ssl).
    #[serde(default, serialize_with = "ser_secret_redacted")]
    pub refresh_token: Option<SecretString>,
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
    /// API root (uploads and calls); only changed for tests.
    #[serde(default = "default_youtube_api")]
    pub api_url: String,
    /// `private` (default), `unlisted` or `public`. Unverified API projects can only upload private videos.
    #[serde(default = "default_privacy")]
    pub privacy: String,
    /// 25 = News & Politics.
    #[serde(default = "default_category")]
    pub category_id: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Playlist the videos are added to; empty: none.
    #[serde(default)]
    pub playlist_id: String,
    /// Upload chunk size in MiB (each a resumable step).
    #[serde(default = "default_chunk_mib")]
    pub chunk_mib: u64,
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}
fn default_youtube_api() -> String {
    "https://youtube.googleapis.com/".into()
}
fn default_privacy() -> String {
    "private".into()
}
fn default_category() -> String {
    "25".into()
}
fn default_language() -> String {
    "de".into()
}
fn default_chunk_mib() -> u64 {
    8
}

fn ser_secret_redacted<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some("[REDACTED]"),
        None => s.serialize_none(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig { bind: DEFAULT_BIND.into(), public_url: String::new() },
            storage: StorageConfig { data_dir: DEFAULT_DATA_DIR.into(), database_url: String::new() },
            town: TownConfig { name: "Musterstadt".into(), privacy_url: "/datenschutz".into(), logo: String::new() },
            intake: IntakeConfig {
                max_question_chars: DEFAULT_MAX_QUESTION_CHARS,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                mailbox_local_part: "buergersprechstunde".into(),
                per_ip_burst: default_ip_burst(),
                per_ip_every_ms: default_ip_every_ms(),
                global_per_second: default_global_per_second(),
                trust_forwarded_for: false,
            },
            media: MediaConfig {
                width: 1280,
                height: 720,
                fps: 30,
                video_bitrate_kbit: 2500,
                audio_bitrate: 128_000,
                fragment_ms: 1000,
                stall_timeout_ms: 2000,
                loudness_target_lufs: Some(-16.0),
            },
            publish: PublishConfig {
                ladder_file: String::new(),
                segment_seconds: 4,
                worker: true,
                targets: Vec::new(),
                s3: None,
            },
            youtube: YoutubeConfig {
                rtmp_url: String::new(),
                stream_key: None,
                client_id: String::new(),
                client_secret: None,
                refresh_token: None,
                token_uri: default_token_uri(),
                api_url: default_youtube_api(),
                privacy: default_privacy(),
                category_id: default_category(),
                language: default_language(),
                tags: Vec::new(),
                playlist_id: String::new(),
                chunk_mib: default_chunk_mib(),
            },
            ingest: IngestConfig { srt_listen: String::new(), srt_public_host: String::new() },
            mail: MailConfig { smtp_port: default_smtp_port(), smtp_tls: default_smtp_tls(), ..MailConfig::default() },
            privacy: PrivacyConfig::default(),
            imap: ImapConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError::Missing(f.to_owned()));
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig.merge(Env::prefixed(ENV_PREFIX).split("__").lowercase(true));
        let cfg: Config = fig.extract().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let m = &self.media;
        if m.width < 64 || m.height < 64 || !m.width.is_multiple_of(2) || !m.height.is_multiple_of(2) {
            return Err(ConfigError::Invalid(format!(
                "media.width/height must be even and ≥ 64, got {}x{}",
                m.width, m.height
            )));
        }
        if !(1..=60).contains(&m.fps) {
            return Err(ConfigError::Invalid(format!("media.fps must be 1–60, got {}", m.fps)));
        }
        if let Some(t) = m.loudness_target_lufs
            && !(-31.0..=-10.0).contains(&t)
        {
            return Err(ConfigError::Invalid("media.loudness_target_lufs must be between -31 and -10".into()));
        }
        if !(300..=60_000).contains(&m.stall_timeout_ms) {
            return Err(ConfigError::Invalid("media.stall_timeout_ms must be 300–60000".into()));
        }
        if !(100..=10_000).contains(&m.fragment_ms) {
            return Err(ConfigError::Invalid("media.fragment_ms must be 100–10000".into()));
        }
        let i = &self.imap;
        if i.enabled() {
            if !["tls", "starttls", "none"].contains(&i.tls.as_str()) {
                return Err(ConfigError::Invalid(format!("imap.tls must be tls, starttls or none, got {:?}", i.tls)));
            }
            let local = i.host == "localhost" || i.host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
            if i.tls == "none" && !local {
                return Err(ConfigError::Invalid(
                    "imap.tls = \"none\" sends the mailbox password in clear: only allowed for a server on this machine".into(),
                ));
            }
            if !["move", "flag"].contains(&i.mark.as_str()) {
                return Err(ConfigError::Invalid(format!("imap.mark must be move or flag, got {:?}", i.mark)));
            }
            if i.username.is_empty() || i.password.is_none() {
                return Err(ConfigError::Invalid("imap.username and imap.password are needed".into()));
            }
            if !(1..=3600).contains(&i.poll_seconds) || !(1..=1024).contains(&i.max_message_mib) {
                return Err(ConfigError::Invalid(
                    "imap.poll_seconds must be 1–3600, imap.max_message_mib 1–1024".into(),
                ));
            }
            if i.auto_reply && self.mail.smtp_host.is_empty() {
                return Err(ConfigError::Invalid("imap.auto_reply needs [mail] smtp_host".into()));
            }
        }
        for t in &self.publish.targets {
            if !PUBLISH_TARGETS.contains(&t.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "publish.targets: unknown target {t:?} (known: {})",
                    PUBLISH_TARGETS.join(", ")
                )));
            }
        }
        let y = &self.youtube;
        if !["private", "unlisted", "public"].contains(&y.privacy.as_str()) {
            return Err(ConfigError::Invalid("youtube.privacy must be private, unlisted or public".into()));
        }
        if !(1..=1024).contains(&y.chunk_mib) {
            return Err(ConfigError::Invalid("youtube.chunk_mib must be 1–1024".into()));
        }
        if self.publish.targets.iter().any(|t| t == "youtube") && (y.client_id.is_empty() || y.refresh_token.is_none())
        {
            return Err(ConfigError::Invalid(
                "publish.targets has \"youtube\" but youtube.client_id / youtube.refresh_token are not set".into(),
            ));
        }
        if self.publish.targets.iter().any(|t| t == "s3") && self.publish.s3.is_none() {
            return Err(ConfigError::Invalid("publish.targets has \"s3\" but [publish.s3] is missing".into()));
        }
        if let Some(s3) = &self.publish.s3 {
            if s3.bucket.trim().is_empty() || s3.region.trim().is_empty() {
                return Err(ConfigError::Invalid("publish.s3: bucket and region are required".into()));
            }
            if !(5..=5120).contains(&s3.part_size_mib) {
                return Err(ConfigError::Invalid("publish.s3.part_size_mib must be 5–5120 (S3's limits)".into()));
            }
            let e = &s3.endpoint;
            if !(e.is_empty() || e.starts_with("http://") || e.starts_with("https://")) {
                return Err(ConfigError::Invalid("publish.s3.endpoint must be an http(s) URL".into()));
            }
        }
        if !self.mail.smtp_host.is_empty() {
            if !["starttls", "tls", "none"].contains(&self.mail.smtp_tls.as_str()) {
                return Err(ConfigError::Invalid("mail.smtp_tls must be starttls, tls or none".into()));
            }
            if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "mail.from {:?} is not an address (e.g. \"Stadt Musterstadt <buergerstunde@musterstadt.example>\")",
                    self.mail.from
                )));
            }
        }
        if self.intake.max_question_chars == 0 {
            return Err(ConfigError::Invalid("intake.max_question_chars must be > 0".into()));
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.storage.database_url.is_empty() {
            format!("sqlite://{}", self.storage.data_dir.join("citizenhour.db").display())
        } else {
            self.storage.database_url.clone()
        }
    }

    /// The base URL for links, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.bind)
        } else {
            self.server.public_url.trim_end_matches('/').to_owned()
        }
    }

    pub fn recordings_dir(&self) -> PathBuf {
        self.storage.data_dir.join("recordings")
    }

    /// The local publish target: everything under it is served at `/media/`.
    pub fn site_dir(&self) -> PathBuf {
        self.storage.data_dir.join("site")
    }

    /// Where a session's live HLS is written; served at [`Config::live_hls_url`].
    pub fn live_hls_dir(&self, slug: &str) -> PathBuf {
        self.site_dir().join("live").join(slug)
    }

    /// URL path of a file in a session's live HLS directory (e.g. `index.m3u8`).
    pub fn live_hls_url(slug: &str, file: &str) -> String {
        format!("/media/live/{slug}/{file}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_example_configuration_loads_and_validates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config.example.toml");
        let c = Config::load(Some(&path)).expect("deploy/config.example.toml is valid");
        assert!(c.publish.targets.is_empty() && c.publish.s3.is_none());
        assert_eq!(c.youtube.privacy, "private");
    }

    #[test]
    fn mail_intake_settings_are_checked() {
        let mut c = Config::default();
        c.imap.host = "imap.musterstadt.example".into();
        c.imap.username = "buergerstunde".into();
        c.imap.password = Some("geheim".to_string().into());
        assert!(c.validate().is_ok());
        let refused = |c: &Config| c.validate().unwrap_err().to_string();
        c.imap.tls = "none".into();
        assert!(refused(&c).contains("password in clear"), "plaintext only on this machine");
        c.imap.host = "127.0.0.1".into();
        assert!(c.validate().is_ok());
        c.imap.mark = "delete".into();
        assert!(refused(&c).contains("imap.mark"));
        c.imap.mark = "flag".into();
        c.imap.auto_reply = true;
        assert!(refused(&c).contains("[mail] smtp_host"));
        c.imap.auto_reply = false;
        c.imap.password = None;
        assert!(refused(&c).contains("imap.username and imap.password"));
        let shown = format!(
            "{:?} {}",
            Config { imap: ImapConfig { password: Some("geheim".to_string().into()), ..c.imap.clone() }, ..c.clone() },
            serde_json::to_string(&c).unwrap()
        );
        assert!(!shown.contains("geheim"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn environment_overrides_file_and_secrets_stay_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nbind = \"127.0.0.1:9999\"\n[youtube]\nstream_key = \"abcd-efgh-secret\"\n")
            .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("CITIZENHOUR__TOWN__NAME", "Beispielheim");
            let cfg = Config::load(Some(&file)).map_err(|e| e.to_string())?;
            assert_eq!(cfg.server.bind, "127.0.0.1:9999");
            assert_eq!(cfg.town.name, "Beispielheim");
            assert_eq!(cfg.youtube.stream_key.as_ref().unwrap().expose_secret(), "abcd-efgh-secret");
            let shown = format!("{cfg:?}");
            assert!(!shown.contains("abcd-efgh-secret"), "secret leaked in Debug: {shown}");
            let json = serde_json::to_string(&cfg).unwrap();
            assert!(!json.contains("abcd-efgh-secret"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nbindd = \"x\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("bindd"), "{err}");
        std::fs::write(&file, "[media]\nwidth = 33\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("media.width"), "{err}");
        assert!(matches!(Config::load(Some(&dir.path().join("nope.toml"))), Err(ConfigError::Missing(_))));
    }
}
