//! The `EnumSchema` static of every enum the Graph types use, and `ENUMS`, which lists them.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Literal, TokenStream};
use prost_reflect::{EnumDescriptor, EnumValueDescriptor};
use quote::quote;

use crate::{Error, naming, options::Options};

/// Graph's evolvable-enum sentinel member: the codec's reader and writer rely on every Graph
/// enum having it.
const SENTINEL: &str = "unknownFutureValue";

/// A flags set is a u64 bit mask, a bit per member in schema order. Any enum may be held by a
/// `repeated` field, so every enum is held to it.
const MAX_MEMBERS: usize = 64;

/// The enums the Graph types use, by full name: sorted, for a stable file.
#[derive(Default)]
pub(crate) struct Enums(BTreeMap<String, EnumDescriptor>);

impl Enums {
    /// The static holding the schema of `descriptor`, which `emit` then generates.
    pub(crate) fn schema(&mut self, descriptor: &EnumDescriptor) -> Ident {
        self.0.entry(descriptor.full_name().to_owned()).or_insert_with(|| descriptor.clone());
        naming::enum_static(descriptor)
    }

    pub(crate) fn emit(&self, options: &Options) -> Result<TokenStream, Error> {
        let mut items = TokenStream::new();
        for descriptor in self.0.values() {
            items.extend(enum_schema(options, descriptor)?);
        }
        let statics = self.0.values().map(naming::enum_static);
        items.extend(quote! {
            /// Every enum the Graph types use.
            pub static ENUMS: &[&EnumSchema] = &[#(&#statics,)*];
        });
        Ok(items)
    }
}

fn enum_schema(options: &Options, descriptor: &EnumDescriptor) -> Result<TokenStream, Error> {
    let name = || descriptor.full_name().to_owned();
    let graph_name = options.graph_enum(descriptor)?;
    // In number order: the lowest is the zero value, "not set", which Graph has no member for.
    let mut values = descriptor.values();
    let unspecified = values.next().filter(|v| v.number() == 0).ok_or_else(|| Error::ZeroValue { name: name() })?;
    let mut graph_names = Vec::new();
    let mut members = Vec::new();
    for value in values {
        let (graph_name, member) = member(options, &value)?;
        graph_names.push(graph_name);
        members.push(member);
    }
    if members.len() > MAX_MEMBERS {
        return Err(Error::TooManyMembers { name: name(), count: members.len() });
    }
    if !graph_names.iter().any(|member| member == SENTINEL) {
        return Err(Error::NoSentinel { name: name() });
    }
    let static_name = naming::enum_static(descriptor);
    let unspecified = unspecified.name();
    Ok(quote! {
        pub static #static_name: EnumSchema = EnumSchema {
            graph_name: #graph_name,
            unspecified: #unspecified,
            members: &[#(#members,)*],
        };
    })
}

/// A member's Graph name, and its `Member`.
fn member(options: &Options, value: &EnumValueDescriptor) -> Result<(String, TokenStream), Error> {
    let graph_name = options.member(value)?;
    let column = match options.column(value) {
        None => quote!(None),
        Some(column) => {
            let Some((property, hunting_column)) =
                column.split_once('=').filter(|(p, h)| !p.is_empty() && !h.is_empty())
            else {
                return Err(Error::Column { value: value.full_name().to_owned(), column });
            };
            quote!(Some(Column { property: #property, hunting_column: #hunting_column }))
        }
    };
    let proto_name = value.name();
    // Not negative: the zero value is the lowest.
    let number = Literal::i32_unsuffixed(value.number());
    let member = quote!(Member { graph_name: #graph_name, proto_name: #proto_name, number: #number, column: #column });
    Ok((graph_name, member))
}
