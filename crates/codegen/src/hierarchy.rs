//! A polymorphic Graph value: a message holding a oneof whose cases are Graph types, plus one
//! `unknown` case for a type this build does not know. Generates the dispatch by type name on
//! the oneof's enum and the wrapper's `GraphView` and `GraphObject` impls, whose type is its case's.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use prost_reflect::{Kind, MessageDescriptor, OneofDescriptor};
use quote::{format_ident, quote};

use crate::{Error, naming, options::Options, types};

/// The oneof of a message whose cases are Graph types, if it has one.
pub(crate) fn polymorphic_oneof(options: &Options, message: &MessageDescriptor) -> Option<OneofDescriptor> {
    message.oneofs().find(|oneof| {
        oneof.fields().any(|case| matches!(case.kind(), Kind::Message(m) if options.graph_type(&m).is_some()))
    })
}

/// The impls of the polymorphic value `message` with the oneof `oneof`; records in `case_names`
/// the case holding each case message (by full name).
pub(crate) fn emit(
    options: &Options,
    message: &MessageDescriptor,
    oneof: &OneofDescriptor,
    case_names: &mut BTreeMap<String, String>,
) -> Result<TokenStream, Error> {
    if !types::has_additional_data(message)? {
        return Err(Error::NoAdditionalData { message: message.full_name().to_owned() });
    }
    let oneof_type = naming::oneof_type(message, oneof);
    // (namespace-qualified name, field number, oneof variant, case type), sorted by name.
    let mut known = Vec::new();
    // (field number, case type), sorted by number.
    let mut numbered = Vec::new();
    let mut unknown = None;
    for case in oneof.fields() {
        let Kind::Message(case_message) = case.kind() else {
            return Err(Error::CaseNotMessage { case: case.full_name().to_owned() });
        };
        let variant = naming::case_variant(&case);
        let variant = quote!(#oneof_type::#variant);
        let case_type = naming::message_type(&case_message);
        match options.graph_type(&case_message) {
            Some(graph_name) => {
                naming::check_case(&case, &case_message, &graph_name, message.name())?;
                let qualified_name = format!("{}.{graph_name}", options.namespace(&case_message)?);
                case_names.insert(case_message.full_name().to_owned(), case.name().to_owned());
                numbered.push((case.number(), case_type.clone()));
                known.push((qualified_name, case.number(), variant, case_type));
            }
            None if unknown.is_none() => {
                let odata_type = case_message.fields().find(|f| f.name() == "odata_type" && f.kind() == Kind::String);
                let Some(odata_type) = odata_type else {
                    return Err(Error::UnknownCaseOdataType { case: case.full_name().to_owned() });
                };
                unknown = Some((variant, case_type, case.number(), odata_type.number()));
            }
            None => return Err(Error::SecondUnknownCase { case: case.full_name().to_owned() }),
        }
    }
    let (unknown, unknown_type, unknown_number, unknown_odata_type) =
        unknown.ok_or_else(|| Error::NoUnknownCase { oneof: oneof.full_name().to_owned() })?;
    // `Hierarchy::get` searches by name. The naming rule makes the names unique: a case's name says its type.
    known.sort_by(|a, b| a.0.cmp(&b.0));
    numbered.sort_by_key(|(number, _)| *number);
    let (numbers, numbered_types): (Vec<_>, Vec<_>) = numbered.into_iter().unzip();
    let names: Vec<_> = known.iter().map(|(name, ..)| name).collect();
    let known_numbers: Vec<_> = known.iter().map(|(_, number, ..)| number).collect();
    let variants: Vec<_> = known.iter().map(|(_, _, variant, _)| variant).collect();
    let case_types: Vec<_> = known.iter().map(|(.., case_type)| case_type).collect();

    let rust_type = naming::message_type(message);
    let field = format_ident!("{}", oneof.name());
    let field_name = oneof.name();
    let message_name = message.name();
    // `value` and `slot`: the property of the case that is set, through its accessor.
    let [value, slot] = [
        (quote!(value(&self, index: usize) -> Value<'_>), quote!(&), format_ident!("get")),
        (quote!(slot(&mut self, index: usize) -> Slot<'_>), quote!(&mut), format_ident!("get_mut")),
    ]
    .map(|(signature, borrow, accessor)| {
        quote! {
            fn #signature {
                match #borrow self.#field {
                    #(Some(#variants(m)) => (<#case_types as GraphType>::PROPERTIES[index].#accessor)(m),)*
                    _ => unreachable!("an unknown or unset case has no property {index}"),
                }
            }
        }
    });
    let (additional_data, additional_data_mut) = types::additional_data_methods();
    let additional_data_number = types::additional_data_number(message);
    Ok(quote! {
        impl #rust_type {
            /// The known types of the value, by name and by field number.
            pub const HIERARCHY: Hierarchy = Hierarchy {
                message: #message_name,
                field: #field_name,
                known: &[#((#names, #known_numbers, &<#case_types as GraphType>::INFO),)*],
                cases: &[#((#numbers, &<#numbered_types as GraphType>::INFO),)*],
                unknown: UnknownCase { number: #unknown_number, odata_type: #unknown_odata_type },
                additional_data: #additional_data_number,
            };
        }

        impl #oneof_type {
            /// Hands the type with this namespace-qualified name to `visitor`; `None` if unknown.
            pub fn with_type<V: TypeVisitor<Self>>(qualified_name: &str, visitor: V) -> Option<V::Output> {
                match qualified_name {
                    #(#names => Some(visitor.visit(#variants)),)*
                    _ => None,
                }
            }

            /// Namespace-qualified names of every known case, sorted.
            pub const KNOWN_TYPES: &[&str] = &[#(#names,)*];
        }

        impl GraphView for #rust_type {
            fn shape(&self) -> Shape<'_> {
                match &self.#field {
                    #(Some(#variants(_)) => Shape::Known(&<#case_types as GraphType>::INFO),)*
                    Some(#unknown(m)) => Shape::Unknown(&m.odata_type),
                    None => Shape::Unset,
                }
            }

            #value

            #additional_data

            fn hierarchy(&self) -> Option<&'static Hierarchy> {
                Some(&Self::HIERARCHY)
            }
        }

        impl GraphObject for #rust_type {
            #slot

            #additional_data_mut

            fn select(&mut self, qualified_name: &str) -> bool {
                self.#field = Some(match qualified_name {
                    #(#names => #variants(Default::default()),)*
                    _ => {
                        self.#field = Some(#unknown(#unknown_type { odata_type: qualified_name.to_owned() }));
                        return false;
                    }
                });
                true
            }
        }
    })
}
