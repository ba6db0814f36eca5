//! Checksums for tools that forge input on purpose: the fuzz targets mutate snapshot and record
//! bodies and must seal them, or every mutation stops at the checksum check and the decoders
//! behind it are never reached. Hidden from the docs: no user needs to forge a checksum.

use alloc::vec::Vec;

use crate::hash::hash_bytes;
use crate::record::id_prefix;

/// `body` followed by the checksum a snapshot ends with (the core's fixed hash of `body`).
#[doc(hidden)]
pub fn __seal_snapshot(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&hash_bytes(body).to_le_bytes());
    out
}

/// `body` (a record's version byte and client encoding) followed by the checksum a record of
/// `client_id` carries: the hash covers the id, which the record itself leaves out.
#[doc(hidden)]
pub fn __seal_record(client_id: &str, body: &[u8]) -> Vec<u8> {
    let mut covered = id_prefix(client_id);
    covered.extend_from_slice(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&hash_bytes(&covered).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::{__seal_record, __seal_snapshot};
    use crate::StatusEngine;

    #[test]
    fn seals_as_the_encoders_do() {
        let mut e = StatusEngine::default();
        e.ingest_many(
            b"{\"clientId\":\"GID_a@@@d1\",\"channelId\":\"c1\",\"eventType\":\"connect\",\"time\":5}\n",
        );
        let snap = e.snapshot();
        assert_eq!(__seal_snapshot(&snap[..snap.len() - 8]), snap);
        let rec = e.client_record("GID_a@@@d1").unwrap();
        assert_eq!(__seal_record("GID_a@@@d1", &rec[..rec.len() - 8]), rec);
        assert_ne!(__seal_record("GID_a@@@d2", &rec[..rec.len() - 8]), rec, "the id is covered");
    }
}
