//! A status store has no offline grace yet (issue 17: its feed and atomic step do not carry
//! pending offlines): opening one with `offlineGraceMs` > 0 is `invalid_field` naming the option,
//! like a non-aliyun `source`, and creates nothing.

use mqtt_status::{Config, ErrorCode};
use mqtt_status_store::StatusStore;

#[test]
fn a_store_refuses_an_offline_grace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let url = format!("file:{}", path.display());
    let err = StatusStore::open(&url, Config { offline_grace_ms: 1, ..Config::default() }).err().unwrap();
    assert_eq!((err.code(), err.field()), (ErrorCode::InvalidField, Some("offlineGraceMs")), "{err}");
    assert!(!path.exists(), "nothing created");
    StatusStore::open(&url, Config::default()).unwrap();
}
