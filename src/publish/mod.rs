//! Publishing: putting a rendered recording and its chapters where citizens find them.
//! Targets: [`local`] (the embedded site, served by the web server). No GStreamer here.

pub mod chapters;
pub mod local;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("rendition incomplete: {0}")]
    Incomplete(String),
}

impl PublishError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        PublishError::Io { path: path.display().to_string(), source }
    }
}
