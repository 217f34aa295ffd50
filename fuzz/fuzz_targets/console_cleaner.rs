//! The console cleaner on any bytes, fed in two chunks split at the first byte's value: every
//! line it emits is shorter than the input, whatever escapes and partial characters it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitro_sdk::console::clean::Cleaner;

fuzz_target!(|input: &[u8]| {
    let split = input.first().map_or(0, |b| usize::from(*b)).min(input.len());
    let mut cleaner = Cleaner::default();
    let mut line = Vec::new();
    let mut total = 0;
    for chunk in [&input[..split], &input[split..]] {
        cleaner.feed(chunk, &mut line, |l| total += l.len() + 1);
    }
    assert!(total + line.len() <= input.len() * 4 + 1, "the cleaner made text out of nothing");
});
