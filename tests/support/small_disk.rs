//! A small filesystem of its own (tmpfs) mounted on a directory, so a test can fill a disk
//! for real. Mounting needs root (CI runs as root); a test that cannot mount one fails and
//! says why rather than skipping.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted at `path`, unmounted when dropped.
pub struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `kib` KiB at `path` (an existing, empty directory).
    pub fn mount(path: &Path, kib: u64) -> SmallDisk {
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .expect("run mount(8)");
        assert!(
            output.status.success(),
            "this test fills a real disk: it mounts a {kib} KiB tmpfs, which needs root (or \
             CAP_SYS_ADMIN); mount said: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        SmallDisk {
            path: path.to_owned(),
        }
    }

    /// Fills what is left of the disk with a file; its path, to free the space again.
    pub fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("create the filler");
        let chunk = vec![0u8; 16 * 1024];
        // Bounded: the disk is small, and each write either takes space or fails.
        for _ in 0..100_000 {
            if file.write_all(&chunk).is_err() {
                break;
            }
        }
        // The last partial chunk too: not a byte left.
        for _ in 0..16 * 1024 {
            if file.write_all(&[0]).is_err() {
                break;
            }
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
