//! Opening the state file: a file that is not a botwatch database, or one another process
//! holds, is a clear error that says what to do, and the file is left as it was.

use std::time::Duration;

use botwatch::store::SqliteStore;

#[test]
fn a_state_file_that_is_not_a_database_is_a_clear_error_not_silent_loss() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    std::fs::write(&state, vec![0x42u8; 8192]).unwrap();
    let error = SqliteStore::open(&state, Duration::from_secs(60))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is not usable") && error.contains("move it aside"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        vec![0x42u8; 8192],
        "the file is left as it was"
    );
}

#[test]
fn a_state_file_locked_by_another_process_is_reported_as_locked_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    drop(SqliteStore::open(&state, Duration::from_secs(60)).unwrap());
    let holder = rusqlite::Connection::open(&state).unwrap();
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    let error = SqliteStore::open(&state, Duration::from_secs(60))
        .unwrap_err()
        .to_string();
    assert!(error.contains("is locked by another process"), "{error}");
    drop(holder);
    assert!(
        SqliteStore::open(&state, Duration::from_secs(60)).is_ok(),
        "usable again once released"
    );
}
