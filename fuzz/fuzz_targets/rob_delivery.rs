#![no_main]
// the population register's delivery as it reaches the intake

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp::fuzzing::rob_delivery(data));
