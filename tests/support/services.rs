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
