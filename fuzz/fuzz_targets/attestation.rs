#![no_main]
// a security key's registration (JSON, and the CBOR attestation object inside)

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp::fuzzing::attestation(data));
