//! What a store reports when it fails, classified by the driver's error codes.

/// A state store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the state file {path}: {message}; check the path and its permissions")]
    Open {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file is not a botwatch state file, or is damaged.
    #[error(
        "the state file {path} is not usable: {message}; move it aside to start with fresh state"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Another process holds the file (another botwatch on the same state file?).
    #[error("the state file {path} is locked by another process; is another botwatch using it? Give each instance its own state file")]
    Locked {
        /// The file.
        path: String,
    },
    /// The disk holding the state file is full.
    #[error("the disk holding the state file is full ({0}); free some space")]
    DiskFull(String),
    /// A query failed.
    #[error("state store error: {0}")]
    Query(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        // Classified by the driver's code, never by the wording of its message.
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(error.to_string()),
            _ => StoreError::Query(error.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Query(format!("stored JSON does not decode: {error}"))
    }
}
