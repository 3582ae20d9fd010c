//! What a Graph property holds: the `Value`/`Slot`/`PropertyKind` variant (crates/codec/src/schema.rs)
//! of each field kind the codec maps, and the arguments of the field's two accessors.

use proc_macro2::{Ident, TokenStream};
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use quote::{format_ident, quote};

use crate::{Error, enums::Enums, naming, options::PACKAGE};

/// How the codec reaches one field, as the tokens of `m` (the message) that the accessors take.
pub(crate) struct Access {
    /// The `Value`, `Slot` and `PropertyKind` variant.
    pub(crate) variant: Ident,
    /// The `PropertyKind`.
    pub(crate) kind: TokenStream,
    /// The arguments of `Value::variant(..)`.
    pub(crate) get: TokenStream,
    /// The arguments of `Slot::variant(..)`.
    pub(crate) get_mut: TokenStream,
    /// The type of a field holding complex values, one or a collection.
    pub(crate) complex: Option<MessageDescriptor>,
}

impl Access {
    /// The access of `field`, which holds a Graph property; registers the enum it holds in `enums`.
    pub(crate) fn of(field: &FieldDescriptor, enums: &mut Enums) -> Result<Self, Error> {
        let name = naming::field(field);
        let repeated = field.cardinality() == Cardinality::Repeated;
        let plain = |variant: &str| (format_ident!("{variant}"), quote!(&m.#name), quote!(&mut m.#name));
        let mut schema = None;
        let mut complex = None;
        let (variant, get, get_mut) = match field.kind() {
            Kind::Enum(e) => {
                let s = enums.schema(&e);
                let (variant, get) =
                    if repeated { ("Flags", quote!(&#s, &m.#name)) } else { ("Enum", quote!(&#s, m.#name)) };
                let get_mut = quote!(&#s, &mut m.#name);
                schema = Some(s);
                (format_ident!("{variant}"), get, get_mut)
            }
            Kind::String => plain(if repeated { "Strings" } else { "String" }),
            // Without presence (a plain proto3 bool), false and absent would be one value.
            Kind::Bool if field.supports_presence() && !repeated => {
                (format_ident!("Bool"), quote!(m.#name), quote!(&mut m.#name))
            }
            Kind::Message(m) if !repeated && m.full_name() == "google.protobuf.Timestamp" => {
                (format_ident!("Timestamp"), quote!(m.#name.as_ref()), quote!(&mut m.#name))
            }
            Kind::Message(m) if !repeated && m.full_name() == "google.protobuf.Duration" => {
                (format_ident!("Duration"), quote!(m.#name.as_ref()), quote!(&mut m.#name))
            }
            Kind::Message(m) if m.package_name() == PACKAGE && !m.is_map_entry() => {
                complex = Some(m);
                if repeated {
                    plain("Objects")
                } else {
                    let get = quote!(m.#name.as_ref().map(|v| v as &dyn GraphView));
                    (format_ident!("Object"), get, quote!(&mut m.#name))
                }
            }
            kind => {
                return Err(Error::Unmapped {
                    field: field.full_name().to_owned(),
                    field_type: field_type(field.cardinality(), &kind),
                });
            }
        };
        let kind = match schema {
            Some(schema) => quote!(PropertyKind::#variant(&#schema)),
            None => quote!(PropertyKind::#variant),
        };
        Ok(Self { variant, kind, get, get_mut, complex })
    }
}

/// A field's type as a .proto file spells it, e.g. `repeated int32`.
fn field_type(cardinality: Cardinality, kind: &Kind) -> String {
    let label = match cardinality {
        Cardinality::Optional => "",
        Cardinality::Required => "required ",
        Cardinality::Repeated => "repeated ",
    };
    let name = match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        scalar => format!("{scalar:?}").to_lowercase(),
    };
    format!("{label}{name}")
}
