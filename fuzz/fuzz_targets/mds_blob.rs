#![no_main]
// a FIDO metadata BLOB (the JWS, and its payload JSON)

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp::fuzzing::mds_blob(data));
