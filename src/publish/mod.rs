//! Publishing: putting a rendered recording and its chapters where citizens find them.
//! Targets: [`local`] (the embedded site, served by the web server; every other target copies from it), [`s3`]
//! (S3-compatible storage); and [`notify`], the answer notices to askers. No GStreamer here.

pub mod chapters;
pub mod local;
pub mod notify;
pub mod s3;
pub mod youtube;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("rendition incomplete: {0}")]
    Incomplete(String),
    /// A remote target refused or failed; `permanent` when retrying cannot help (credentials, missing bucket).
    #[error("{target}: {detail}")]
    Remote { target: &'static str, detail: String, permanent: bool },
    /// A daily quota is used up: try again at `retry_at` (not counted as a failed attempt).
    #[error("{target}: {detail} (next try {retry_at})")]
    Quota { target: &'static str, detail: String, retry_at: chrono::DateTime<chrono::Utc> },
}

impl PublishError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        PublishError::Io { path: path.display().to_string(), source }
    }
}

/// `len` bytes of `path` from `offset` (one upload part or chunk).
pub(crate) fn read_range(path: &std::path::Path, offset: u64, len: u64) -> Result<Vec<u8>, PublishError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| PublishError::io(path, e))?;
    f.seek(SeekFrom::Start(offset)).map_err(|e| PublishError::io(path, e))?;
    let mut buf = vec![0u8; len as usize];
    f.read_exact(&mut buf).map_err(|e| PublishError::io(path, e))?;
    Ok(buf)
}
