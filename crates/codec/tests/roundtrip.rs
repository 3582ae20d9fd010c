//! Property tests of SPEC §2.3 and §5, for response actions and for whole detection rules:
//! - proto -> Graph JSON -> proto is the identity for valid messages;
//! - Graph JSON with arbitrary unknown properties, types and enum members -> proto -> Graph JSON
//!   keeps every property and value (numbers to the last digit); for a rule, with the update mask
//!   RuleFromGraph returns, nulls included.
//!
//! The generators are driven by the schema tables (the rule ones by walking the schema API from
//! `DetectionRule`), so new types are covered without new code.

use std::collections::BTreeMap;

use graphbridge_codec::{
    self as codec, Policy,
    pb::{ResponseAction, UnknownResponseAction, response_action::Action},
    schema::{GraphType, Slot, TypeVisitor},
};
use proptest::{collection::vec, prelude::*, sample::select};
use serde_json::{Value as Json, value::RawValue};

const DEPTH: usize = codec::DEFAULT_MAX_DEPTH;

#[derive(Debug, Clone)]
enum Kind {
    Flags(Vec<&'static str>),
    Enum(Vec<&'static str>),
    Strings,
    String,
}

#[derive(Debug, Clone)]
struct TypeDesc {
    qualified_name: &'static str,
    properties: Vec<(&'static str, Kind)>,
}

struct Describe(&'static str);

impl TypeVisitor for Describe {
    type Output = TypeDesc;

    fn visit<M: GraphType>(self, _: fn(M) -> Action) -> TypeDesc {
        let writable = |s: &'static graphbridge_codec::schema::EnumSchema| -> Vec<&'static str> {
            s.members.iter().filter(|m| !m.is_sentinel()).map(|m| m.graph_name).collect()
        };
        let properties = M::PROPERTIES
            .iter()
            .map(|p| {
                let kind = match (p.get_mut)(&mut M::default()) {
                    Slot::Flags(schema, _) => Kind::Flags(writable(schema)),
                    Slot::Enum(schema, _) => Kind::Enum(writable(schema)),
                    Slot::Strings(_) => Kind::Strings,
                    Slot::String(_) => Kind::String,
                    _ => unreachable!("response actions hold only enums and strings"),
                };
                (p.graph_name, kind)
            })
            .collect();
        TypeDesc { qualified_name: self.0, properties }
    }
}

fn types() -> Vec<TypeDesc> {
    Action::KNOWN_TYPES.iter().map(|name| Action::with_type(name, Describe(name)).expect("known")).collect()
}

/// Any JSON value as text, with the number forms that lose digits in other parsers.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?",
        any::<String>().prop_map(|s| Json::String(s).to_string()),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::btree_map(any::<String>(), inner, 0..4).prop_map(|members| {
                let members: Vec<String> =
                    members.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Property names no known type declares.
fn unknown_key() -> impl Strategy<Value = String> {
    let known: Vec<&str> = types().iter().flat_map(|t| t.properties.iter().map(|(name, _)| *name)).collect();
    any::<String>().prop_filter("not a known property", move |k| k != "@odata.type" && !known.contains(&k.as_str()))
}

fn extra_properties() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(unknown_key(), json_text(), 0..4)
}

/// A known property's Graph JSON value: mostly known members, sometimes members from the future.
fn property_value(kind: &Kind) -> BoxedStrategy<String> {
    let future = "[a-zA-Z]{1,12}".prop_filter("unknown", |s| s != "deviceId");
    match kind.clone() {
        Kind::Flags(members) => prop_oneof![
            3 => proptest::sample::subsequence(members.clone(), 1..=members.len()).prop_map(|m| Json::String(m.join(",")).to_string()),
            1 => (proptest::sample::subsequence(members, 0..=1), future).prop_map(|(mut m, f)| {
                let mut tokens: Vec<String> = m.drain(..).map(String::from).collect();
                tokens.push(f);
                Json::String(tokens.join(",")).to_string()
            }),
        ]
        .boxed(),
        Kind::Enum(members) => prop_oneof![
            3 => select(members).prop_map(|m| Json::String(m.into()).to_string()),
            1 => future.prop_map(|f| Json::String(f).to_string()),
        ]
        .boxed(),
        Kind::Strings => vec(any::<String>(), 0..4).prop_map(|v| Json::from(v).to_string()).boxed(),
        Kind::String => any::<String>().prop_map(|v| Json::from(v).to_string()).boxed(),
    }
}

/// One Graph action object as text: a known type (with or without '#') or an unknown type.
fn graph_action() -> impl Strategy<Value = String> {
    let known = select(types()).prop_flat_map(|desc| {
        let values: Vec<_> = desc.properties.iter().map(|(_, kind)| property_value(kind)).collect();
        (Just(desc), values, extra_properties(), any::<bool>())
    });
    let known = known.prop_map(|(desc, values, extra, hash)| {
        let mut members = vec![format!("\"@odata.type\":\"{}{}\"", if hash { "#" } else { "" }, desc.qualified_name)];
        members.extend(desc.properties.iter().zip(values).map(|((name, _), value)| format!("\"{name}\":{value}")));
        members.extend(extra.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))));
        format!("{{{}}}", members.join(","))
    });
    let unknown =
        ("microsoft\\.graph\\.security\\.[a-z][a-zA-Z]{0,20}Action", extra_properties()).prop_map(|(name, extra)| {
            let mut members = vec![format!("\"@odata.type\":\"#{name}\"")];
            members.extend(extra.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))));
            format!("{{{}}}", members.join(","))
        });
    prop_oneof![4 => known, 1 => unknown]
}

/// Builds a valid proto action of a known type from generated choices.
struct Build<'a> {
    choices: &'a [(Vec<bool>, Vec<String>)],
}

impl TypeVisitor for Build<'_> {
    type Output = Action;

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) -> Action {
        let mut message = M::default();
        for (property, (bits, strings)) in M::PROPERTIES.iter().zip(self.choices) {
            match (property.get_mut)(&mut message) {
                Slot::Flags(schema, field) => {
                    // Canonical: member order, each once, at least one; never the sentinel.
                    let writable = schema.members.iter().filter(|m| !m.is_sentinel());
                    field.extend(writable.zip(bits).filter(|(_, on)| **on).map(|(m, _)| m.number));
                    if field.is_empty() {
                        field.push(schema.members[0].number);
                    }
                }
                Slot::Enum(schema, field) => *field = schema.members[bits.iter().filter(|b| **b).count() % 2].number,
                Slot::Strings(field) => *field = strings.clone(),
                // Never empty: an empty string is an unset one, and identifierValue is required.
                Slot::String(field) => *field = format!("v{}", strings.concat()),
                _ => unreachable!("response actions hold only enums and strings"),
            }
        }
        wrap(message)
    }
}

fn proto_action() -> impl Strategy<Value = ResponseAction> {
    let known = (select(Action::KNOWN_TYPES), vec((vec(any::<bool>(), 8), vec(any::<String>(), 0..3)), 2))
        .prop_map(|(name, choices)| Action::with_type(name, Build { choices: &choices }).expect("known"));
    let unknown = "microsoft\\.graph\\.[a-zA-Z.]{1,30}"
        .prop_filter("not known", |n| !Action::KNOWN_TYPES.contains(&n.as_str()))
        .prop_map(|odata_type| Action::Unknown(UnknownResponseAction { odata_type }));
    (prop_oneof![4 => known, 1 => unknown], extra_properties())
        .prop_map(|(action, additional_data)| ResponseAction { action: Some(action), additional_data })
}

/// `json` without whitespace outside strings.
fn minified(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(json.len()), false, false);
    for c in json.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ' ' | '\n' if !in_string => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

type RawObject = BTreeMap<String, Box<RawValue>>;

/// Asserts that `output` holds the same actions as `input`: unknown data byte for byte, known
/// properties by value (their formatting is canonicalized), `@odata.type` always with its '#'.
fn assert_same_graph_json(output: &str, input: &str) -> Result<(), TestCaseError> {
    let parse = |text: &str| serde_json::from_str::<Vec<RawObject>>(text).expect("an array of objects");
    let (output, input) = (parse(output), parse(input));
    prop_assert_eq!(output.len(), input.len());
    let known = ["identifier", "isolationType", "deviceGroupNames"];
    for (out, expected) in output.iter().zip(&input) {
        prop_assert_eq!(out.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
        for (key, value) in expected {
            let (got, want) = (out[key].get(), value.get());
            if key == "@odata.type" {
                prop_assert_eq!(got.replacen("\"#", "\"", 1), want.replacen("\"#", "\"", 1));
            } else if known.contains(&key.as_str()) {
                prop_assert_eq!(
                    serde_json::from_str::<Json>(got).unwrap(),
                    serde_json::from_str::<Json>(want).unwrap()
                );
            } else {
                prop_assert_eq!(got, want, "unknown property {} must be kept byte for byte", key);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn proto_to_graph_to_proto_is_identity(actions in vec(proto_action(), 0..6)) {
        let written = codec::to_graph(&actions, Policy::Preserve, false, DEPTH).expect("valid actions");
        let read = codec::from_graph(&written.json, Policy::Preserve, DEPTH).expect("own output reads");
        prop_assert_eq!(read.actions, actions);
    }

    #[test]
    fn graph_to_proto_to_graph_keeps_every_property(actions in vec(graph_action(), 0..6)) {
        let input = format!("[{}]", actions.join(","));
        let read = codec::from_graph(&input, Policy::Preserve, DEPTH).expect("Graph JSON reads");
        let written = codec::to_graph(&read.actions, Policy::Preserve, false, DEPTH).expect("read actions write");
        assert_same_graph_json(&written.json, &input)?;
        let pretty = codec::to_graph(&read.actions, Policy::Preserve, true, DEPTH).expect("read actions write");
        prop_assert_eq!(minified(&pretty.json), written.json);
    }

    #[test]
    fn drop_reports_exactly_what_preserve_keeps(actions in vec(graph_action(), 0..6)) {
        let input = format!("[{}]", actions.join(","));
        let kept = codec::from_graph(&input, Policy::Preserve, DEPTH).expect("reads");
        let dropped = codec::from_graph(&input, Policy::Drop, DEPTH).expect("reads");
        let pointers = |r: &codec::FromGraph| r.unknown_data.iter().map(|u| u.pointer.clone()).collect::<Vec<_>>();
        prop_assert_eq!(pointers(&kept), pointers(&dropped));
        prop_assert!(dropped.actions.iter().all(|a| !matches!(a.action, Some(Action::Unknown(_)))));
        let rejected = codec::from_graph(&input, Policy::Reject, DEPTH);
        let unknown = kept.unknown_data.iter().filter(|u| u.kind() != graphbridge_codec::pb::UnknownDataKind::RawValue).count();
        match rejected {
            Ok(_) => prop_assert_eq!(unknown, 0),
            Err(codec::Error::Invalid(violations)) => prop_assert_eq!(violations.len(), unknown),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

// ---- Whole detection rules, generated by walking the schema from DetectionRule ----

/// Generators of whole rules, driven by the schema API alone (`slot`, `fill`, `push`,
/// `hierarchy`, `select`): no code per type, so a type added to proto/ is generated too.
mod rules {
    use std::collections::{BTreeMap, BTreeSet};

    use graphbridge_codec::{
        pb::DetectionRule,
        schema::{EnumSchema, GraphObject, SENTINEL, Shape, Slot, TypeInfo, Value},
    };
    use prost_types::{Duration, Timestamp};
    use serde_json::value::RawValue;

    /// Choices from proptest-generated bytes. Exhausted, it answers 0: the first option, "no",
    /// the smallest value, so shrinking the bytes towards zeros shrinks the rule.
    pub struct Entropy<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl<'a> Entropy<'a> {
        pub fn new(bytes: &'a [u8]) -> Self {
            Self { bytes, at: 0 }
        }

        fn byte(&mut self) -> u8 {
            let byte = self.bytes.get(self.at).copied().unwrap_or(0);
            self.at += 1;
            byte
        }

        /// `0..n`.
        fn below(&mut self, n: u64) -> u64 {
            let mut value = 0u64;
            let mut span = 1u64;
            while span < n {
                value = value << 8 | u64::from(self.byte());
                span = span.saturating_mul(256);
            }
            if n == 0 { 0 } else { value % n }
        }

        fn index(&mut self, len: usize) -> usize {
            self.below(len as u64) as usize
        }

        fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
            &items[self.index(items.len())]
        }

        /// True with about `percent`% probability; false once exhausted.
        fn percent(&mut self, percent: u32) -> bool {
            u32::from(self.byte()) * 100 >= (100 - percent) * 256
        }
    }

    /// What the schema says a property holds, learned through `slot`.
    #[derive(Debug)]
    enum Kind {
        Flags(&'static EnumSchema),
        Enum(&'static EnumSchema),
        Strings,
        String,
        Bool,
        Timestamp,
        Duration,
        Object(Box<Desc>),
        Objects(Box<Desc>),
    }

    /// A Graph type and the kind of each of its properties.
    #[derive(Debug)]
    struct TypeDesc {
        info: &'static TypeInfo,
        kinds: Vec<Kind>,
    }

    /// A complex value: of one type, or polymorphic (its known types by qualified name).
    #[derive(Debug)]
    enum Desc {
        Single(TypeDesc),
        Polymorphic(Vec<(&'static str, TypeDesc)>),
    }

    fn describe(object: &mut dyn GraphObject) -> Desc {
        match object.hierarchy() {
            Some(hierarchy) => Desc::Polymorphic(
                hierarchy
                    .known
                    .iter()
                    .map(|(name, _)| {
                        assert!(object.select(name), "{name} is known");
                        (*name, describe_known(object))
                    })
                    .collect(),
            ),
            None => Desc::Single(describe_known(object)),
        }
    }

    fn describe_known(object: &mut dyn GraphObject) -> TypeDesc {
        let Shape::Known(info) = object.shape() else { panic!("not a known type") };
        let kinds = (0..info.properties.len())
            .map(|index| match object.slot(index) {
                Slot::Flags(schema, _) => Kind::Flags(schema),
                Slot::Enum(schema, _) => Kind::Enum(schema),
                Slot::Strings(_) => Kind::Strings,
                Slot::String(_) => Kind::String,
                Slot::Bool(_) => Kind::Bool,
                Slot::Timestamp(_) => Kind::Timestamp,
                Slot::Duration(_) => Kind::Duration,
                // The schema has no cycles: the walk ends.
                Slot::Object(slot) => Kind::Object(Box::new(describe(slot.fill()))),
                Slot::Objects(list) => Kind::Objects(Box::new(describe(list.push()))),
            })
            .collect();
        TypeDesc { info, kinds }
    }

    fn rule_desc() -> &'static Desc {
        static DESC: std::sync::OnceLock<Desc> = std::sync::OnceLock::new();
        DESC.get_or_init(|| describe(&mut DetectionRule::default()))
    }

    /// Characters that need escaping, non-ASCII ones, and the separators of flags and pointers.
    const CHARS: &[char] = &[
        'a', 'b', 'x', 'Y', '0', '9', ' ', '-', '_', '.', ',', '"', '\\', '/', '~', '@', '#', '\n', '\t', '\u{0}',
        '\u{1f}', '\u{7f}', 'é', 'ü', '–', '\u{2028}', '\u{fffd}', '😀',
    ];

    fn text(e: &mut Entropy, max_len: u64) -> String {
        let len = e.below(max_len + 1);
        (0..len).map(|_| *e.pick(CHARS)).collect()
    }

    fn non_empty_text(e: &mut Entropy) -> String {
        let mut text = text(e, 8);
        if text.is_empty() {
            text.push('v');
        }
        text
    }

    fn word(e: &mut Entropy) -> String {
        let len = 1 + e.below(10);
        (0..len).map(|_| *e.pick(&['a', 'e', 'k', 'r', 's', 't', 'Q', 'X'])).collect()
    }

    fn json_string(s: &str) -> String {
        serde_json::to_string(s).expect("a string serializes")
    }

    /// Numbers other parsers round or refuse: every digit must survive.
    const NUMBERS: &[&str] = &[
        "12345678901234567890",
        "-0",
        "1e400",
        "-1.5E-7",
        "0.1",
        "9007199254740993",
        "-9223372036854775809",
        "18446744073709551616",
        "3.141592653589793238462643383279502884197",
        "1E+2",
        "0e0",
        "100000000000000000000000000000000000000001",
    ];

    /// Strings written with escapes that are not the shortest form: kept byte for byte.
    const ESCAPED: &[&str] = &[r#""\u00e9\/""#, r#""\ud83d\ude00""#, r#""a\u0000b""#, r#""\"\\\b\f\n\r\t""#];

    fn number(e: &mut Entropy) -> String {
        if e.percent(40) {
            return (*e.pick(NUMBERS)).to_owned();
        }
        let mut n = String::new();
        if e.percent(30) {
            n.push('-');
        }
        if e.percent(20) {
            n.push('0');
        } else {
            n.push(char::from(b'1' + e.below(9) as u8));
            (0..e.below(30)).for_each(|_| n.push(char::from(b'0' + e.below(10) as u8)));
        }
        if e.percent(40) {
            n.push('.');
            (0..1 + e.below(20)).for_each(|_| n.push(char::from(b'0' + e.below(10) as u8)));
        }
        if e.percent(30) {
            n.push(*e.pick(&['e', 'E']));
            let signs = ["", "+", "-"];
            n.push_str(e.pick::<&str>(&signs));
            n.push_str(&(e.below(500)).to_string());
        }
        n
    }

    /// Any JSON value, as compact text.
    fn any_json(e: &mut Entropy, depth: u32) -> String {
        match e.below(if depth == 0 { 6 } else { 8 }) {
            0 => "null".to_owned(),
            1 => (*e.pick(&["true", "false"])).to_owned(),
            2 => number(e),
            3 => json_string(&text(e, 8)),
            4 => (*e.pick(ESCAPED)).to_owned(),
            5 => json_string(&word(e)),
            6 => {
                let items: Vec<String> = (0..e.below(4)).map(|_| any_json(e, depth - 1)).collect();
                format!("[{}]", items.join(","))
            }
            _ => {
                let mut keys = BTreeSet::new();
                let members: Vec<String> = (0..e.below(4))
                    .filter_map(|_| {
                        let key = text(e, 6);
                        keys.insert(key.clone()).then(|| format!("{}:{}", json_string(&key), any_json(e, depth - 1)))
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }

    fn writable(schema: &'static EnumSchema) -> Vec<&'static graphbridge_codec::schema::Member> {
        schema.members.iter().filter(|m| !m.is_sentinel()).collect()
    }

    /// A member this build cannot hold typed: Graph's sentinel, a member from the future, a
    /// known one in another case, or nothing.
    fn odd_member(e: &mut Entropy, schema: &'static EnumSchema) -> String {
        let odd = match e.below(4) {
            0 => format!("future{}", word(e)),
            1 => SENTINEL.to_owned(),
            2 => {
                let name = e.pick(schema.members).graph_name;
                let mut chars = name.chars();
                chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
            }
            _ => String::new(),
        };
        if schema.members.iter().any(|m| m.graph_name == odd && !m.is_sentinel()) {
            return format!("future{odd}");
        }
        odd
    }

    /// A writable member set as Graph writes it: each once, in member (bit) order, at least one.
    fn flag_members(e: &mut Entropy, schema: &'static EnumSchema) -> Vec<&'static graphbridge_codec::schema::Member> {
        let writable = writable(schema);
        let mut chosen: Vec<_> = writable.iter().copied().filter(|_| e.percent(50)).collect();
        if chosen.is_empty() {
            chosen.push(*e.pick(&writable));
        }
        chosen
    }

    fn days_in_month(year: u64, month: u64) -> u64 {
        match month {
            2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// An Edm.DateTimeOffset as Graph writes it: UTC, 7 fractional digits.
    fn timestamp_text(e: &mut Entropy) -> String {
        let year = if e.percent(20) { *e.pick(&[1, 1970, 2000, 2024, 9999]) } else { 1 + e.below(9999) };
        let month = 1 + e.below(12);
        let day = 1 + e.below(days_in_month(year, month));
        let (hour, minute, second, ticks) = (e.below(24), e.below(60), e.below(60), e.below(10_000_000));
        format!("\"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ticks:07}Z\"")
    }

    /// Valid date-time strings with no exact typed form: kept raw.
    const RAW_TIMESTAMPS: &[&str] = &[
        "\"2023-06-25T11:37:28+02:00\"",
        "\"2023-02-29T00:00:00.0000000Z\"",
        "\"2023-06-25 09:37:28Z\"",
        "\"2023-06-25T24:00:00.0000000Z\"",
        "\"2023-06-25T09:37:28.1234567890Z\"",
        "\"0000-01-01T00:00:00.0000000Z\"",
        "\"yesterday\"",
        "\"\"",
    ];

    /// An Edm.Duration as Graph writes it (.NET XmlConvert): `[-]P[nD][T[nH][nM][n[.f]S]]`,
    /// zero fields left out, `PT0S` for zero.
    fn duration_text(e: &mut Entropy) -> String {
        let days = if e.percent(40) { e.below(400) } else { 0 };
        let hours = if e.percent(50) { e.below(24) } else { 0 };
        let minutes = if e.percent(50) { e.below(60) } else { 0 };
        let seconds = if e.percent(50) { e.below(60) } else { 0 };
        let nanos = if e.percent(30) { e.below(1_000_000_000) } else { 0 };
        let zero = days == 0 && hours == 0 && minutes == 0 && seconds == 0 && nanos == 0;
        let mut text = String::from(if e.percent(10) && !zero { "\"-P" } else { "\"P" });
        if days > 0 {
            text.push_str(&format!("{days}D"));
        }
        if hours > 0 || minutes > 0 || seconds > 0 || nanos > 0 || days == 0 {
            text.push('T');
            if hours > 0 {
                text.push_str(&format!("{hours}H"));
            }
            if minutes > 0 {
                text.push_str(&format!("{minutes}M"));
            }
            if seconds > 0 || nanos > 0 || (hours == 0 && minutes == 0) {
                text.push_str(&seconds.to_string());
                if nanos > 0 {
                    text.push('.');
                    text.push_str(format!("{nanos:09}").trim_end_matches('0'));
                }
                text.push('S');
            }
        }
        text.push('"');
        text
    }

    /// Valid duration strings with no exact typed form (no fixed length, or not ISO 8601): kept raw.
    const RAW_DURATIONS: &[&str] =
        &["\"P1M\"", "\"P1Y\"", "\"P2W\"", "\"PT\"", "\"P1DT\"", "\"PT1.S\"", "\"soon\"", "\"P99999999999999999999D\""];

    /// Annotations: keys with '@', kept verbatim and never reported.
    const ANNOTATIONS: &[&str] = &["@odata.etag", "@odata.id", "@odata.editLink", "id@odata.type", "@vendor.note"];

    /// Graph JSON of one rule, and what RuleToGraph must write back.
    #[derive(Debug, Default)]
    pub struct RuleJson {
        pub input: String,
        pub expected: String,
        /// Raw texts that must be in the output byte for byte.
        pub verbatim: Vec<String>,
        /// Nulls of known properties inside collection items: "absent", reported as dropped.
        pub dropped_nulls: usize,
    }

    /// Where a value is.
    #[derive(Clone, Copy)]
    struct At {
        /// Reached from the rule through single complex values only, so an update mask can name
        /// its properties: a null is kept (as a masked unset field), required ones may be left out.
        masked: bool,
        /// Inside a value kept raw (a collection holding a null item): written back as it is.
        raw: bool,
        root: bool,
    }

    /// The members of one JSON object being generated: key, input text, expected output text.
    struct Members {
        keys: BTreeSet<String>,
        members: Vec<(String, String, Option<String>)>,
    }

    impl Members {
        fn new() -> Self {
            Self { keys: BTreeSet::new(), members: Vec::new() }
        }

        fn push(&mut self, key: &str, input: String, expected: Option<String>) {
            assert!(self.keys.insert(key.to_owned()), "duplicate {key}");
            self.members.push((key.to_owned(), input, expected));
        }

        /// Both texts, the members in a shuffled order.
        fn render(mut self, e: &mut Entropy) -> (String, String) {
            for i in (1..self.members.len()).rev() {
                self.members.swap(i, e.index(i + 1));
            }
            let input: Vec<String> = self.members.iter().map(|(k, v, _)| format!("{}:{v}", json_string(k))).collect();
            let expected: Vec<String> = self
                .members
                .iter()
                .filter_map(|(k, _, v)| v.as_ref().map(|v| format!("{}:{v}", json_string(k))))
                .collect();
            (format!("{{{}}}", input.join(",")), format!("{{{}}}", expected.join(",")))
        }
    }

    struct JsonGen<'e> {
        e: Entropy<'e>,
        out: RuleJson,
    }

    /// A random detectionRule object: a random subset of properties with valid values,
    /// explicit nulls, nested objects, collections of 0-3 items (polymorphic ones of a random
    /// known or unknown type), unknown properties and annotations at every level, values with
    /// no typed form (unknown enum members, empty strings and collections, non-UTC instants).
    pub fn rule_json(entropy: &[u8]) -> RuleJson {
        let mut generator = JsonGen { e: Entropy::new(entropy), out: RuleJson::default() };
        let (input, expected) = generator.object(rule_desc(), At { masked: true, raw: false, root: true });
        RuleJson { input, expected, ..generator.out }
    }

    impl JsonGen<'_> {
        fn object(&mut self, desc: &Desc, at: At) -> (String, String) {
            let mut members = Members::new();
            let desc = match desc {
                Desc::Single(desc) => {
                    // Graph sends the entity's own type; on a value of one type it is an annotation.
                    if self.e.percent(10) {
                        let value = json_string(desc.info.odata_type);
                        self.out.verbatim.push(value.clone());
                        members.push("@odata.type", value.clone(), Some(value));
                    }
                    desc
                }
                Desc::Polymorphic(known) => {
                    // Graph writes a '#'; Microsoft's docs sometimes leave it out. Written with it.
                    let hash = if self.e.percent(10) { "" } else { "#" };
                    if self.e.percent(15) {
                        let mut name = format!("microsoft.graph.security.{}Thing", self.word());
                        if known.iter().any(|(known, _)| *known == name) {
                            name.push('2');
                        }
                        let expected = if at.raw { format!("{hash}{name}") } else { format!("#{name}") };
                        members.push(
                            "@odata.type",
                            json_string(&format!("{hash}{name}")),
                            Some(json_string(&expected)),
                        );
                        // Every property of an unknown type is unknown data, nulls included.
                        for _ in 0..self.e.below(4) {
                            self.unknown_member(&mut members, None, at);
                        }
                        return members.render(&mut self.e);
                    }
                    let (name, desc) = self.e.pick(known);
                    let expected = if at.raw { format!("{hash}{name}") } else { format!("#{name}") };
                    members.push("@odata.type", json_string(&format!("{hash}{name}")), Some(json_string(&expected)));
                    desc
                }
            };
            let info = desc.info;
            let mut chosen: Vec<usize> = (0..info.properties.len())
                .filter(|&i| {
                    let complex = matches!(desc.kinds[i], Kind::Object(_) | Kind::Objects(_));
                    (info.properties[i].required && !at.masked) || self.e.percent(if complex { 75 } else { 50 })
                })
                .collect();
            if at.masked && chosen.is_empty() {
                // Nothing to put in a mask: the object is written whole, so it needs its required
                // properties (and a rule with no property at all reads back an empty mask).
                chosen = (0..info.properties.len()).filter(|&i| info.properties[i].required).collect();
            }
            for index in chosen {
                let property = &info.properties[index];
                if !property.required && self.e.percent(12) {
                    // Kept where a mask can hold it; elsewhere it means absent (SPEC §2.2).
                    let kept = at.masked || at.raw;
                    self.out.dropped_nulls += usize::from(!kept);
                    members.push(property.graph_name, "null".into(), kept.then(|| "null".into()));
                    continue;
                }
                let (input, expected) = self.value(&desc.kinds[index], at);
                members.push(property.graph_name, input, Some(expected));
            }
            let extra = if info.open { 60 } else { 30 };
            if self.e.percent(extra) {
                for _ in 0..1 + self.e.below(3) {
                    self.unknown_member(&mut members, Some(info), at);
                }
            }
            if self.e.percent(15) {
                let key = *self.e.pick(ANNOTATIONS);
                if !members.keys.contains(key) {
                    let value = self.verbatim(any_json_of);
                    members.push(key, value.clone(), Some(value));
                }
            }
            members.render(&mut self.e)
        }

        fn word(&mut self) -> String {
            word(&mut self.e)
        }

        /// A raw value that must come back byte for byte.
        fn verbatim(&mut self, make: fn(&mut Entropy) -> String) -> String {
            let value = make(&mut self.e);
            self.out.verbatim.push(value.clone());
            value
        }

        /// A property `info` does not declare (any member of an unknown type), any JSON value.
        fn unknown_member(&mut self, members: &mut Members, info: Option<&TypeInfo>, at: At) {
            for _ in 0..4 {
                let key = if self.e.percent(50) { text(&mut self.e, 6) } else { format!("new{}", self.word()) };
                let taken = members.keys.contains(&key)
                    || key == "@odata.type"
                    || info.is_some_and(|info| info.find(&key).is_some())
                    // An object with "value" is an OData collection of rules.
                    || (at.root && key == "value");
                if !taken {
                    let value = self.verbatim(any_json_of);
                    members.push(&key, value.clone(), Some(value));
                    return;
                }
            }
        }

        fn value(&mut self, kind: &Kind, at: At) -> (String, String) {
            let same = |text: String| (text.clone(), text);
            let e = &mut self.e;
            match kind {
                Kind::Flags(schema) if e.percent(15) => {
                    // Unknown members: the whole value is kept raw, whatever its form.
                    let mut tokens: Vec<String> =
                        writable(schema).iter().filter(|_| e.percent(40)).map(|m| m.graph_name.to_owned()).collect();
                    let odd = odd_member(e, schema);
                    tokens.insert(e.index(tokens.len() + 1), odd);
                    let separator = if e.percent(20) { ", " } else { "," };
                    same(json_string(&tokens.join(separator)))
                }
                Kind::Flags(schema) => {
                    let names: Vec<&str> = flag_members(e, schema).iter().map(|m| m.graph_name).collect();
                    same(json_string(&names.join(",")))
                }
                Kind::Enum(schema) if e.percent(15) => same(json_string(&odd_member(e, schema))),
                Kind::Enum(schema) => same(json_string(e.pick(&writable(schema)).graph_name)),
                Kind::Strings => {
                    let mut items: Vec<String> = (0..e.below(4)).map(|_| json_string(&text(e, 8))).collect();
                    if e.percent(5) {
                        items.insert(e.index(items.len() + 1), "null".into());
                    }
                    same(format!("[{}]", items.join(",")))
                }
                Kind::String if e.percent(5) => same("\"\"".into()),
                Kind::String => same(json_string(&non_empty_text(e))),
                Kind::Bool => same((*e.pick(&["true", "false"])).into()),
                Kind::Timestamp if e.percent(15) => same((*e.pick(RAW_TIMESTAMPS)).into()),
                Kind::Timestamp => same(timestamp_text(e)),
                Kind::Duration if e.percent(15) => same((*e.pick(RAW_DURATIONS)).into()),
                Kind::Duration => same(duration_text(e)),
                Kind::Object(desc) => self.object(desc, At { root: false, ..at }),
                Kind::Objects(desc) => {
                    let len = if e.percent(15) { 0 } else { 1 + e.below(3) };
                    // A null item: the collection has no typed form and is kept raw, as it is.
                    let null_item = len > 0 && e.percent(8);
                    let item_at = At { masked: false, raw: at.raw || null_item, root: false };
                    let mut items: Vec<(String, String)> = (0..len).map(|_| self.object(desc, item_at)).collect();
                    if null_item {
                        items.insert(self.e.index(items.len() + 1), same("null".into()));
                    }
                    let input: Vec<&str> = items.iter().map(|(i, _)| i.as_str()).collect();
                    let expected: Vec<&str> = items.iter().map(|(_, x)| x.as_str()).collect();
                    (format!("[{}]", input.join(",")), format!("[{}]", expected.join(",")))
                }
            }
        }
    }

    fn any_json_of(e: &mut Entropy) -> String {
        any_json(e, 3)
    }

    /// Edm.DateTimeOffset's range, years 1 to 9999, in Unix seconds.
    const MIN_SECONDS: i64 = -62_135_596_800;
    const MAX_SECONDS: i64 = 253_402_300_799;
    /// google.protobuf.Duration's range, about 10,000 years.
    const MAX_DURATION_SECONDS: u64 = 315_576_000_000;

    /// A random valid rule: every required property set, optional ones at random; enums never
    /// 0 nor the sentinel, flags in member order; no empty strings or collections; instants in
    /// years 1-9999 with 100 ns ticks; polymorphic items of known and unknown types; unknown
    /// properties and annotations, and known properties held raw (unknown members, "", []).
    pub fn valid_rule(entropy: &[u8]) -> DetectionRule {
        let mut rule = DetectionRule::default();
        build(&mut Entropy::new(entropy), &mut rule, true);
        rule
    }

    fn build(e: &mut Entropy, object: &mut dyn GraphObject, root: bool) {
        if let Some(hierarchy) = object.hierarchy() {
            if e.percent(15) {
                let mut name = format!("microsoft.graph.{}Thing", word(e));
                if hierarchy.get(&name).is_some() {
                    name.push('2');
                }
                assert!(!object.select(&name), "{name} is unknown");
                extras(e, object, None, false, true);
                return;
            }
            let (name, _) = e.pick(hierarchy.known);
            assert!(object.select(name));
        }
        let Shape::Known(info) = object.shape() else { unreachable!("selected a known type") };
        for (index, property) in info.properties.iter().enumerate() {
            let complex = matches!(object.value(index), Value::Object(_) | Value::Objects(_));
            if !property.required && !e.percent(if complex { 75 } else { 50 }) {
                continue;
            }
            // A value with no typed form, kept raw under the property's own name.
            let raw = match object.slot(index) {
                _ if !e.percent(8) => None,
                Slot::Flags(schema, _) | Slot::Enum(schema, _) => Some(json_string(&odd_member(e, schema))),
                Slot::String(_) => Some("\"\"".to_owned()),
                Slot::Strings(_) | Slot::Objects(_) => Some("[]".to_owned()),
                Slot::Timestamp(_) => Some((*e.pick(RAW_TIMESTAMPS)).to_owned()),
                Slot::Duration(_) => Some((*e.pick(RAW_DURATIONS)).to_owned()),
                Slot::Bool(_) | Slot::Object(_) => None,
            };
            if let Some(raw) = raw {
                object.additional_data_mut().insert(property.graph_name.to_owned(), raw);
                continue;
            }
            set(e, object.slot(index));
        }
        let polymorphic = object.hierarchy().is_some();
        extras(e, object, Some(info), root, polymorphic);
    }

    fn set(e: &mut Entropy, slot: Slot<'_>) {
        match slot {
            Slot::Flags(schema, field) => *field = flag_members(e, schema).iter().map(|m| m.number).collect(),
            Slot::Enum(schema, field) => *field = e.pick(&writable(schema)).number,
            Slot::Strings(field) => *field = (0..1 + e.below(3)).map(|_| text(e, 8)).collect(),
            Slot::String(field) => *field = non_empty_text(e),
            Slot::Bool(field) => *field = Some(e.percent(50)),
            Slot::Timestamp(field) => {
                let seconds = MIN_SECONDS + e.below((MAX_SECONDS - MIN_SECONDS + 1) as u64) as i64;
                *field = Some(Timestamp { seconds, nanos: e.below(10_000_000) as i32 * 100 });
            }
            Slot::Duration(field) => {
                let seconds = if e.percent(50) { e.below(100_000) } else { e.below(MAX_DURATION_SECONDS + 1) } as i64;
                let nanos = if e.percent(40) { e.below(1_000_000_000) as i32 } else { 0 };
                let sign = if e.percent(20) { -1 } else { 1 };
                *field = Some(Duration { seconds: sign * seconds, nanos: sign as i32 * nanos });
            }
            Slot::Object(slot) => build(e, slot.fill(), false),
            Slot::Objects(list) => (0..1 + e.below(3)).for_each(|_| build(e, list.push(), false)),
        }
    }

    /// Unknown properties and annotations, any JSON value as its raw text.
    fn extras(e: &mut Entropy, object: &mut dyn GraphObject, info: Option<&TypeInfo>, root: bool, polymorphic: bool) {
        let mut extra: BTreeMap<String, String> = BTreeMap::new();
        if e.percent(if info.is_some_and(|i| i.open) { 60 } else { 25 }) {
            for _ in 0..1 + e.below(3) {
                let key = if e.percent(50) { text(e, 6) } else { format!("new{}", word(e)) };
                extra.insert(key, any_json(e, 3));
            }
        }
        if e.percent(10) {
            extra.insert((*e.pick(ANNOTATIONS)).to_owned(), any_json(e, 2));
        }
        if let Some(info) = info.filter(|_| !polymorphic && e.percent(10)) {
            extra.insert("@odata.type".to_owned(), json_string(info.odata_type));
        }
        extra.retain(|key, _| {
            // The polymorphic value's type is its oneof case; a rule with "value" is a collection.
            let reserved = (polymorphic && key == "@odata.type") || (root && key == "value");
            !reserved && info.is_none_or(|info| info.find(key).is_none())
        });
        object.additional_data_mut().extend(extra);
    }

    /// A JSON value in which numbers are their exact text (serde_json's own numbers are f64 or
    /// 64-bit integers), strings their value and objects unordered.
    #[derive(Debug, PartialEq)]
    pub enum Tree {
        Object(BTreeMap<String, Tree>),
        Array(Vec<Tree>),
        String(String),
        /// A number, true, false or null: its exact text.
        Atom(String),
    }

    impl Tree {
        pub fn parse(text: &str) -> Result<Tree, String> {
            let raw: &RawValue = serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))?;
            let text = raw.get();
            let error = |e: serde_json::Error| format!("{e}: {text}");
            Ok(match text.as_bytes()[0] {
                b'{' => {
                    let members: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(error)?;
                    Tree::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| Ok((k, Tree::parse(v.get())?)))
                            .collect::<Result<_, String>>()?,
                    )
                }
                b'[' => {
                    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(error)?;
                    Tree::Array(items.into_iter().map(|v| Tree::parse(v.get())).collect::<Result<_, _>>()?)
                }
                b'"' => Tree::String(serde_json::from_str(text).map_err(error)?),
                _ => Tree::Atom(text.to_owned()),
            })
        }

        /// The value at an RFC 6901 pointer.
        pub fn pointer(&self, pointer: &str) -> Option<&Tree> {
            let Some(rest) = pointer.strip_prefix('/') else {
                return pointer.is_empty().then_some(self);
            };
            let (token, rest) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
            let token = token.replace("~1", "/").replace("~0", "~");
            let next = match self {
                Tree::Object(members) => members.get(&token)?,
                Tree::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
            next.pointer(rest)
        }

        /// The first difference from `other`, with its pointer.
        pub fn difference(&self, other: &Tree, at: &str) -> Option<String> {
            match (self, other) {
                (Tree::Object(a), Tree::Object(b)) => {
                    let keys = |m: &BTreeMap<String, Tree>| m.keys().cloned().collect::<Vec<_>>();
                    if keys(a) != keys(b) {
                        return Some(format!("{at}: keys {:?} != {:?}", keys(a), keys(b)));
                    }
                    a.iter().find_map(|(k, v)| v.difference(&b[k], &format!("{at}/{k}")))
                }
                (Tree::Array(a), Tree::Array(b)) if a.len() == b.len() => {
                    a.iter().zip(b).enumerate().find_map(|(i, (x, y))| x.difference(y, &format!("{at}/{i}")))
                }
                _ if self == other => None,
                _ => Some(format!("{at}: {self:?} != {other:?}")),
            }
        }
    }
}

/// Asserts that `output` and `expected` are the same JSON: numbers by their exact text, strings
/// by value, objects in any order.
fn assert_same_json(output: &str, expected: &str) -> Result<(), TestCaseError> {
    let (got, want) = (rules::Tree::parse(output), rules::Tree::parse(expected));
    let (got, want) = (got.map_err(TestCaseError::fail)?, want.expect("generated JSON parses"));
    if let Some(difference) = got.difference(&want, "") {
        return Err(TestCaseError::fail(format!("{difference}\n output: {output}\n expected: {expected}")));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any rule JSON (SPEC §2.3) survives RuleFromGraph -> RuleToGraph with the mask RuleFromGraph
    /// returned: same properties and values at every level, nulls included, unknown data byte for
    /// byte. Nulls inside collection items mean "absent" (no mask reaches there): reported as
    /// dropped and not written back.
    #[test]
    fn any_rule_json_survives_rule_from_graph_then_rule_to_graph(entropy in vec(any::<u8>(), 1024..8192)) {
        let json = rules::rule_json(&entropy);
        let read = codec::rules_from_graph(&json.input, Policy::Preserve, DEPTH)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", json.input)))?;
        prop_assert_eq!(read.rules.len(), 1);
        prop_assert!(read.collection.is_none());
        let input = rules::Tree::parse(&json.input).expect("generated JSON parses");
        for entry in &read.unknown_data {
            prop_assert!(input.pointer(&entry.pointer).is_some(), "{:?} is not in {}", entry, json.input);
        }
        prop_assert_eq!(read.unknown_data.iter().filter(|u| u.dropped).count(), json.dropped_nulls);

        let written = codec::rule_to_graph(&read.rules[0], Some(&read.present), Policy::Preserve, false, DEPTH)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", json.input)))?;
        assert_same_json(&written.json, &json.expected)?;
        for raw in &json.verbatim {
            prop_assert!(written.json.contains(raw.as_str()), "{} is not kept byte for byte", raw);
        }
        let pretty = codec::rule_to_graph(&read.rules[0], Some(&read.present), Policy::Preserve, true, DEPTH).expect("writes");
        prop_assert_eq!(&minified(&pretty.json), &written.json);

        // The output is a fixed point: it reads to the same rule and mask.
        let again = codec::rules_from_graph(&written.json, Policy::Preserve, DEPTH).expect("own output reads");
        prop_assert_eq!(&again.rules, &read.rules);
        let sorted = |paths: &[String]| { let mut p = paths.to_vec(); p.sort(); p };
        prop_assert_eq!(sorted(&again.present), sorted(&read.present));
    }

    /// proto -> Graph JSON -> proto is the identity for valid rules; and writing it back with the
    /// mask RuleFromGraph returns gives the same bytes.
    #[test]
    fn rule_proto_to_graph_to_proto_is_identity(entropy in vec(any::<u8>(), 1024..8192)) {
        let rule = rules::valid_rule(&entropy);
        let written = codec::rule_to_graph(&rule, None, Policy::Preserve, false, DEPTH)
            .map_err(|e| TestCaseError::fail(format!("{e}: {rule:?}")))?;
        let read = codec::rules_from_graph(&written.json, Policy::Preserve, DEPTH)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", written.json)))?;
        prop_assert_eq!(&read.rules, &vec![rule]);
        let masked = codec::rule_to_graph(&read.rules[0], Some(&read.present), Policy::Preserve, false, DEPTH).expect("writes");
        prop_assert_eq!(masked.json, written.json);
    }
}
