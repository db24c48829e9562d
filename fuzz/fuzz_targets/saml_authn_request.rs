#![no_main]
// NIA's AuthnRequest as it reaches our SSO endpoint

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp::fuzzing::saml_authn_request(data));
