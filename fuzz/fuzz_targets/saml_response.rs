#![no_main]
// NIA's SAML Response as it reaches the ACS

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp::fuzzing::saml_response(data));
