//! Live sessions in the server: which sessions are on air, their programs, and what the studio can do to
//! them (answer a question, switch the layout, let sources in and out, end). Sits between the web and
//! {media, storage}: web handlers call this; this calls the program handle and the database.

use crate::config::Config;
use crate::domain::{QuestionId, QuestionStatus, SessionId, SessionState};
use crate::media::layout::Layouts;
use crate::media::mixer::{ProgramEvent, ProgramHandle, ProgramSettings};
use crate::media::outputs::{OutputSpec, RtmpUrl};
use crate::media::sources::SourceSpec;
use crate::storage::{Db, StorageError};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How long a session end may take to finalize every output.
pub const END_DEADLINE: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error("session {0} is not live")]
    NotLive(String),
    #[error("session {0} is live already")]
    AlreadyLive(String),
    #[error("session {0} cannot go live in state {1}")]
    WrongState(String, &'static str),
    #[error("question {0} is not an approved question of this session")]
    QuestionNotApproved(i64),
    #[error("unknown layout {0:?}")]
    UnknownLayout(String),
    #[error("source {0:?} is on air already")]
    SourceTaken(String),
    #[error("no source {0:?} on air")]
    NoSuchSource(String),
    #[error("{0}")]
    Internal(String),
}

/// What the studio and viewers see happen, as JSON on the event stream.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    Started,
    SourceJoined {
        source: String,
    },
    SourceLeft {
        source: String,
    },
    SourceFailed {
        source: String,
        message: String,
    },
    /// The source sent no picture for the stall timeout; its slot shows the slate until it is back.
    SourceStalled {
        source: String,
    },
    SourceResumed {
        source: String,
    },
    /// Once per second: the program's loudness as sent (LUFS, `None` while silent) and the control's gain (dB).
    Loudness {
        shortterm_lufs: Option<f64>,
        integrated_lufs: Option<f64>,
        gain_db: f64,
    },
    OutputFailed {
        output: String,
        message: String,
        destination_fault: bool,
    },
    QuestionOnAir {
        question_id: i64,
        at_ms: i64,
        headline: String,
    },
    QuestionCleared,
    LayoutChanged {
        layout: String,
    },
    Ended {
        duration_ms: i64,
        recording: String,
    },
    Published {
        url: String,
    },
    PublishFailed {
        message: String,
    },
}

pub struct LiveSession {
    pub session_id: SessionId,
    pub slug: String,
    program: ProgramHandle,
    pub recording: PathBuf,
    on_air: Mutex<Option<QuestionId>>,
    layout: Mutex<String>,
    /// WHIP resources: source id → resource id (the last path segment of the `Location`).
    whip: Mutex<HashMap<String, String>>,
}

/// The registry of live sessions and their event channels.
pub struct LiveSessions {
    db: Db,
    /// Queues the publishing job at the end of a session.
    worker: crate::worker::Worker,
    ice: crate::media::sources::IceSettings,
    config: Arc<Config>,
    layouts: Layouts,
    running: Mutex<HashMap<SessionId, Arc<LiveSession>>>,
    channels: Mutex<HashMap<SessionId, broadcast::Sender<LiveEvent>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LiveStatus {
    pub live: bool,
    pub sources: Vec<String>,
    pub layout: Option<String>,
    pub on_air: Option<i64>,
    pub running_ms: Option<i64>,
}

impl LiveSessions {
    pub fn new(db: Db, config: Arc<Config>, worker: crate::worker::Worker) -> LiveSessions {
        LiveSessions {
            db,
            worker,
            ice: crate::media::sources::IceSettings::default(),
            config,
            layouts: Layouts::builtin(),
            running: Mutex::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
        }
    }

    pub fn layouts(&self) -> &Layouts {
        &self.layouts
    }

    /// The event channel of a session (created on first use, live or not).
    pub fn subscribe(&self, session: SessionId) -> broadcast::Receiver<LiveEvent> {
        self.sender(session).subscribe()
    }

    fn sender(&self, session: SessionId) -> broadcast::Sender<LiveEvent> {
        self.channels.lock().unwrap().entry(session).or_insert_with(|| broadcast::channel(256).0).clone()
    }

    /// A publishing job finished, will retry, or failed: tell the studio.
    pub fn job_outcome(&self, session: SessionId, outcome: crate::worker::JobOutcome) {
        use crate::worker::JobOutcome;
        let event = match outcome {
            JobOutcome::Done { published: Some(url), .. } => LiveEvent::Published { url },
            JobOutcome::Done { published: None, .. } => return,
            JobOutcome::Retrying { kind, error, in_seconds } => LiveEvent::PublishFailed {
                message: format!("{kind}: {error} (neuer Versuch in {in_seconds} s / retrying)"),
            },
            JobOutcome::Failed { kind, error } => LiveEvent::PublishFailed { message: format!("{kind}: {error}") },
        };
        self.emit(session, event);
    }

    fn emit(&self, session: SessionId, event: LiveEvent) {
        let _ = self.sender(session).send(event);
    }

    pub fn get(&self, session: SessionId) -> Option<Arc<LiveSession>> {
        self.running.lock().unwrap().get(&session).cloned()
    }

    fn live(&self, session: SessionId, slug: &str) -> Result<Arc<LiveSession>, LiveError> {
        self.get(session).ok_or_else(|| LiveError::NotLive(slug.to_owned()))
    }

    pub fn status(&self, session: SessionId) -> LiveStatus {
        match self.get(session) {
            Some(l) => LiveStatus {
                live: true,
                sources: l.program.source_ids(),
                layout: Some(l.layout.lock().unwrap().clone()),
                on_air: l.on_air.lock().unwrap().map(|q| q.0),
                running_ms: Some(l.program.running_time().as_millis() as i64),
            },
            None => LiveStatus { live: false, sources: vec![], layout: None, on_air: None, running_ms: None },
        }
    }

    /// Puts a scheduled session on air: the program starts with the slate; sources join as they connect.
    pub async fn start(self: &Arc<Self>, slug: &str, initial: Vec<SourceSpec>) -> Result<Arc<LiveSession>, LiveError> {
        let session = self.db.session_by_slug(slug).await?;
        if self.get(session.id).is_some() {
            return Err(LiveError::AlreadyLive(slug.to_owned()));
        }
        if session.state != SessionState::Scheduled {
            return Err(LiveError::WrongState(slug.to_owned(), session.state.as_str()));
        }
        let layout_name = "side-by-side".to_owned();
        let host_line = if session.host_title.is_empty() {
            session.host_name.clone()
        } else {
            format!("{} · {}", session.host_name, session.host_title)
        };
        let layout = self.layouts.get(&layout_name).cloned().expect("built-in layout");
        let mut settings = ProgramSettings::from_config(&self.config.media, layout, host_line);
        settings.logo = self.config.town.logo_path();
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let recording = self.config.recordings_dir().join(format!("{slug}-{stamp}.mp4"));
        // Each camera's / OBS's own stream, for editing later.
        let iso_dir = self.config.recordings_dir().join(format!("{slug}-{stamp}-iso"));
        std::fs::create_dir_all(&iso_dir)
            .map_err(|e| LiveError::Internal(format!("cannot create {}: {e}", iso_dir.display())))?;
        settings.iso_dir = Some(iso_dir);
        let hls_dir = self.config.live_hls_dir(slug);
        let _ = std::fs::remove_dir_all(&hls_dir);
        let mut outputs = vec![
            OutputSpec::Recording { path: recording.clone() },
            OutputSpec::LiveHls { dir: hls_dir, segment_seconds: 2 },
        ];
        if let (false, Some(key)) = (self.config.youtube.rtmp_url.is_empty(), &self.config.youtube.stream_key) {
            let url = format!("{}/{}", self.config.youtube.rtmp_url.trim_end_matches('/'), key.expose_secret());
            outputs.push(OutputSpec::Rtmp { url: RtmpUrl(url) });
        }
        let mut initial = initial;
        if !self.config.ingest.srt_listen.is_empty()
            && let Some(obs) = self.db.source_credentials(session.id).await?.into_iter().find(|c| c.source_id == "obs")
        {
            initial.push(SourceSpec::Srt {
                id: "obs".into(),
                listen: self.config.ingest.srt_listen.clone(),
                passphrase: obs.token,
                latency_ms: 200,
            });
        }
        let program = tokio::task::spawn_blocking(move || ProgramHandle::start(settings, &initial, &outputs))
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))??;
        let mut events = program.take_events().expect("fresh program has its events");
        let live = Arc::new(LiveSession {
            session_id: session.id,
            slug: slug.to_owned(),
            program,
            recording,
            on_air: Mutex::new(None),
            layout: Mutex::new(layout_name),
            whip: Mutex::new(HashMap::new()),
        });
        self.running.lock().unwrap().insert(session.id, live.clone());
        self.db.set_session_state(session.id, SessionState::Live).await?;
        // Forward the program's events to the session's channel.
        let me = Arc::downgrade(self);
        let id = session.id;
        tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                let Some(me) = me.upgrade() else { return };
                let ev = match e {
                    ProgramEvent::Started => LiveEvent::Started,
                    ProgramEvent::SourceJoined { source } => LiveEvent::SourceJoined { source },
                    ProgramEvent::SourceLeft { source } => LiveEvent::SourceLeft { source },
                    ProgramEvent::SourceFailed { source, message } => LiveEvent::SourceFailed { source, message },
                    ProgramEvent::SourceStalled { source } => LiveEvent::SourceStalled { source },
                    ProgramEvent::SourceResumed { source } => LiveEvent::SourceResumed { source },
                    ProgramEvent::Loudness(r) => {
                        let tenth = |v: f64| v.is_finite().then(|| (v * 10.0).round() / 10.0);
                        LiveEvent::Loudness {
                            shortterm_lufs: tenth(r.shortterm_lufs),
                            integrated_lufs: tenth(r.integrated_lufs),
                            gain_db: tenth(r.gain_db).unwrap_or(0.0),
                        }
                    }
                    ProgramEvent::OutputFailed { output, message, destination_fault } => {
                        LiveEvent::OutputFailed { output, message, destination_fault }
                    }
                    // Chapter marks are announced by `answer`, with the question id.
                    ProgramEvent::ChapterMarked { .. } | ProgramEvent::Finished { .. } => continue,
                };
                me.emit(id, ev);
            }
        });
        tracing::info!(session = slug, "live");
        Ok(live)
    }

    /// Shows an approved question in the lower third and marks its chapter at the current stream time.
    pub async fn answer(&self, slug: &str, question: QuestionId) -> Result<i64, LiveError> {
        let session = self.db.session_by_slug(slug).await?;
        let live = self.live(session.id, slug)?;
        let q = self.db.question(question).await?;
        if q.session_id != session.id || !matches!(q.status, QuestionStatus::Approved | QuestionStatus::Answered) {
            return Err(LiveError::QuestionNotApproved(question.0));
        }
        let headline = q.text.headline(140);
        let at = live.program.show_question(&headline, q.display_name());
        let at_ms = at.as_millis() as i64;
        self.db.mark_answered(q.id, at_ms).await?;
        *live.on_air.lock().unwrap() = Some(q.id);
        self.emit(session.id, LiveEvent::QuestionOnAir { question_id: q.id.0, at_ms, headline });
        Ok(at_ms)
    }

    pub async fn clear_question(&self, slug: &str) -> Result<(), LiveError> {
        let session = self.db.session_by_slug(slug).await?;
        let live = self.live(session.id, slug)?;
        live.program.clear_question();
        *live.on_air.lock().unwrap() = None;
        self.emit(session.id, LiveEvent::QuestionCleared);
        Ok(())
    }

    pub async fn set_layout(&self, slug: &str, name: &str) -> Result<(), LiveError> {
        let session = self.db.session_by_slug(slug).await?;
        let live = self.live(session.id, slug)?;
        let layout = self.layouts.get(name).cloned().ok_or_else(|| LiveError::UnknownLayout(name.to_owned()))?;
        live.program.set_layout(layout);
        *live.layout.lock().unwrap() = name.to_owned();
        self.emit(session.id, LiveEvent::LayoutChanged { layout: name.to_owned() });
        Ok(())
    }

    /// Lets a source into a live session's program.
    pub async fn add_source(&self, session: SessionId, slug: &str, spec: SourceSpec) -> Result<(), LiveError> {
        let live = self.live(session, slug)?;
        if live.program.source_ids().iter().any(|s| s == spec.id()) {
            return Err(LiveError::SourceTaken(spec.id().to_owned()));
        }
        tokio::task::spawn_blocking(move || live.program.add_source(&spec))
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))??;
        Ok(())
    }

    /// A WHIP publisher joins as `source`: returns (resource id, SDP answer).
    pub async fn add_whip(
        &self,
        session: SessionId,
        slug: &str,
        source: &str,
        offer: String,
    ) -> Result<(String, String), LiveError> {
        let live = self.live(session, slug)?;
        if live.program.source_ids().iter().any(|s| s == source) {
            return Err(LiveError::SourceTaken(source.to_owned()));
        }
        let ice = self.ice.clone();
        let (l, id) = (live.clone(), source.to_owned());
        let answer = tokio::task::spawn_blocking(move || l.program.add_whip_source(&id, &offer, &ice))
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))??;
        let resource = crate::storage::credentials::new_token();
        live.whip.lock().unwrap().insert(source.to_owned(), resource.clone());
        Ok((resource, answer))
    }

    /// Ends a WHIP publisher (`DELETE` on its resource).
    pub async fn remove_whip(
        &self,
        session: SessionId,
        slug: &str,
        source: &str,
        resource: &str,
    ) -> Result<(), LiveError> {
        let live = self.live(session, slug)?;
        let known = live.whip.lock().unwrap().get(source).is_some_and(|r| r == resource);
        if !known {
            return Err(LiveError::NoSuchSource(source.to_owned()));
        }
        live.whip.lock().unwrap().remove(source);
        self.remove_source(session, slug, source).await
    }

    pub async fn remove_source(&self, session: SessionId, slug: &str, source: &str) -> Result<(), LiveError> {
        let live = self.live(session, slug)?;
        if !live.program.source_ids().iter().any(|s| s == source) {
            return Err(LiveError::NoSuchSource(source.to_owned()));
        }
        let source = source.to_owned();
        tokio::task::spawn_blocking(move || live.program.remove_source(&source))
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))??;
        Ok(())
    }

    /// Ends the session: EOS with a deadline, the recording is stored, then published in the background.
    pub async fn end(self: &Arc<Self>, slug: &str) -> Result<i64, LiveError> {
        let session = self.db.session_by_slug(slug).await?;
        let live =
            self.running.lock().unwrap().remove(&session.id).ok_or_else(|| LiveError::NotLive(slug.to_owned()))?;
        let l = live.clone();
        let report = tokio::task::spawn_blocking(move || l.program.end(END_DEADLINE))
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))??;
        let duration_ms = report.duration.as_millis() as i64;
        self.db.set_session_state(session.id, SessionState::Ended).await?;
        let path = live.recording.to_string_lossy().to_string();
        self.db.add_recording(session.id, &path, duration_ms).await?;
        self.emit(session.id, LiveEvent::Ended { duration_ms, recording: path });
        // Playable on the town site at once: the live HLS (now a finished EVENT playlist) with its chapters,
        // until the rendered ladder replaces it.
        if let Err(e) = crate::workflow::publish_live_as_vod(&self.db, &self.config, session.id, duration_ms).await {
            tracing::error!(session = %slug, "live recording not made available: {e}");
        }
        // The durable publishing job: rendered and published by the worker, retried, resumed after a restart.
        self.worker
            .enqueue(session.id, crate::worker::PUBLISH_LOCAL)
            .await
            .map_err(|e| LiveError::Internal(e.to_string()))?;
        Ok(duration_ms)
    }

    /// Ends every live session (server shutdown): recordings are finalized, not lost.
    pub async fn end_all(self: &Arc<Self>) {
        let slugs: Vec<String> = self.running.lock().unwrap().values().map(|l| l.slug.clone()).collect();
        for slug in slugs {
            if let Err(e) = self.end(&slug).await {
                tracing::error!(session = %slug, "ending at shutdown failed: {e}");
            }
        }
    }
}
