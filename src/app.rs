//! Wiring: build the state, bind the server, run background work, shut down gracefully.

use crate::config::Config;
use crate::publish;
use crate::storage::{Db, StorageError};
use crate::web::{self, AppState};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Publish(#[from] publish::PublishError),
    #[error("answer notices: {0}")]
    Notify(#[from] publish::notify::NotifyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

pub struct App {
    state: AppState,
    listener: TcpListener,
    addr: SocketAddr,
}

impl App {
    /// Opens the database (running migrations), creates the data directories and binds the listener.
    pub async fn build(mut config: Config) -> Result<App, AppError> {
        for dir in [config.storage.data_dir.clone(), config.recordings_dir(), config.site_dir().join("recordings")] {
            std::fs::create_dir_all(&dir).map_err(|e| AppError::Io { path: dir.display().to_string(), source: e })?;
        }
        if let Some(logo) = config.town.logo_path() {
            crate::media::graphics::image_size(&logo)
                .map_err(|e| AppError::Invalid(format!("[town] logo is not usable: {e}")))?;
        }
        let db = Db::connect(&config.database_url()).await?;
        let listener = TcpListener::bind(&config.server.bind)
            .await
            .map_err(|e| AppError::Bind { addr: config.server.bind.clone(), source: e })?;
        let addr = listener.local_addr().map_err(|e| AppError::Bind { addr: config.server.bind.clone(), source: e })?;
        if config.server.public_url.is_empty() {
            config.server.public_url = format!("http://{addr}");
        }
        let config = Arc::new(config);
        let worker = crate::worker::Worker::start(db.clone(), config.clone()).await?;
        let live = Arc::new(crate::live::LiveSessions::new(db.clone(), config.clone(), worker.clone()));
        // Job outcomes go to the studio's event stream.
        let weak = Arc::downgrade(&live);
        let worker = worker.with_listener(Arc::new(move |session, outcome| {
            if let Some(live) = weak.upgrade() {
                live.job_outcome(session, outcome);
            }
        }));
        Ok(App { state: AppState { db, config, live, worker }, listener, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let router = web::router(self.state.clone());
        let live = self.state.live.clone();
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = self.state.config.publish.worker.then(|| {
            let w = self.state.worker.clone();
            tokio::spawn(w.run_until(async move {
                let _ = worker_stopped.await;
            }))
        });
        // The town mailbox, when configured: stops with the server.
        let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
        let mail = if self.state.config.imap.enabled() {
            let intake = crate::mail_intake::MailIntake::new(self.state.db.clone(), self.state.config.clone())?;
            Some(tokio::spawn(intake.run_until(async move {
                let _ = mail_stopped.await;
            })))
        } else {
            None
        };
        // The peer address feeds the submission rate limits.
        let served = axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| AppError::Io { path: self.addr.to_string(), source: e });
        // Sessions still on air are ended properly: their recordings are finalized, not cut.
        live.end_all().await;
        let _ = stop_worker.send(());
        let _ = stop_mail.send(());
        if let Some(m) = mail {
            let _ = m.await;
        }
        if let Some(w) = worker {
            let _ = w.await;
        }
        served
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
