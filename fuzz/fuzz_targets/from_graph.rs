//! Graph JSON -> protobuf: any UTF-8 text, every policy, two depth limits. Never a panic, and
//! the policies and depth limits must agree with each other and with serde_json:
//! - a syntax error is the same under every policy;
//! - DROP accepts exactly what PRESERVE accepts, with the same report (unknown data marked dropped);
//! - REJECT accepts exactly the inputs PRESERVE reads without unknown data, with the same result;
//! - what is read under a small depth limit is read identically under a larger one;
//! - text the scanner accepts is JSON to serde_json; text serde_json parses is refused by the
//!   scanner only for a duplicate key or nesting over the limit.
#![no_main]

use graphbridge_codec::{
    self as codec, Error, FromGraph, Policy,
    pb::{UnknownData, UnknownDataKind},
};
use graphbridge_testkit::{DEPTH, refusals::check_error};
use libfuzzer_sys::fuzz_target;

const DEPTHS: [usize; 2] = [4, DEPTH];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let mut shallow: Option<Result<FromGraph, Error>> = None;
    for depth in DEPTHS {
        let preserve = codec::from_graph(json, Policy::Preserve, depth);
        let drop = codec::from_graph(json, Policy::Drop, depth);
        let reject = codec::from_graph(json, Policy::Reject, depth);
        for result in [&preserve, &drop, &reject] {
            if let Err(error) = result {
                check_error(error);
            }
        }
        match &preserve {
            Err(syntax @ Error::Syntax { .. }) => {
                assert_eq!(drop.as_ref().err(), Some(syntax), "DROP disagrees on a syntax error");
                assert_eq!(reject.as_ref().err(), Some(syntax), "REJECT disagrees on a syntax error");
            }
            Err(Error::Invalid(violations)) => {
                assert_eq!(drop.as_ref().err(), Some(&Error::Invalid(violations.clone())), "DROP disagrees");
                let Err(Error::Invalid(rejected)) = &reject else { panic!("REJECT accepted {json:?}") };
                assert!(violations.iter().all(|v| rejected.contains(v)), "REJECT lost violations");
            }
            Ok(read) => {
                let dropped = drop.as_ref().expect("DROP refused what PRESERVE read");
                let expected: Vec<UnknownData> = read.unknown_data.iter().map(as_dropped).collect();
                assert_eq!(dropped.unknown_data, expected, "DROP reports differently");
                if read.unknown_data.iter().any(is_unknown) {
                    assert!(matches!(reject, Err(Error::Invalid(_))), "REJECT accepted unknown data");
                } else {
                    assert_eq!(reject.as_ref().ok(), Some(read), "REJECT differs without unknown data");
                    assert_eq!(dropped, read, "DROP differs without unknown data");
                }
            }
        }
        if let Some(Ok(read)) = &shallow {
            assert_eq!(preserve.as_ref().ok(), Some(read), "a larger depth limit read differently");
        }
        if depth == DEPTH {
            differential(json, &preserve);
        }
        shallow = Some(preserve);
    }
});

fn is_unknown(entry: &UnknownData) -> bool {
    matches!(entry.kind(), UnknownDataKind::Property | UnknownDataKind::Type | UnknownDataKind::EnumMember)
}

fn as_dropped(entry: &UnknownData) -> UnknownData {
    UnknownData { dropped: entry.dropped || is_unknown(entry), ..entry.clone() }
}

fn differential(json: &str, read: &Result<FromGraph, Error>) {
    let scanner_accepted = !matches!(read, Err(Error::Syntax { .. }));
    let lenient = serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok();
    if scanner_accepted {
        assert!(lenient, "the scanner accepted what serde_json refuses: {json:?}");
    }
    if let Err(Error::Syntax { message, .. }) = read
        && serde_json::from_str::<serde_json::Value>(json).is_ok()
    {
        assert!(
            message.starts_with("duplicate key") || message.starts_with("nesting deeper than"),
            "serde_json parses {json:?} but the scanner said: {message}"
        );
    }
}
