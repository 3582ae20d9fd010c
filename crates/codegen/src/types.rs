//! The `GraphType` impl of every message with a graph_type (its `TypeInfo` and property table),
//! and the `GraphView` and `GraphObject` impls of those held by a field (the oneof cases' is their wrapper's).

use proc_macro2::{Literal, TokenStream};
use prost_reflect::{Kind, MessageDescriptor};
use quote::quote;

use crate::{Error, enums::Enums, hierarchy, naming, options::Options, property::Access};

/// The field of every Graph object (or of the message holding a polymorphic oneof) that keeps
/// what the schema does not model.
const ADDITIONAL_DATA: &str = "additional_data";

/// The impls of the Graph type `graph_name` held by `message`; `case_name` is the oneof case
/// holding it, empty for a type held by a field.
pub(crate) fn emit(
    options: &Options,
    enums: &mut Enums,
    message: &MessageDescriptor,
    graph_name: &str,
    case_name: &str,
) -> Result<TokenStream, Error> {
    let odata_type = format!("#{}.{graph_name}", options.namespace(message)?);
    let open = options.open_type(message);
    let migrates_to = options.migrates_to(message);
    let own_additional_data = has_additional_data(message)?;
    let mut infos = Vec::new();
    let mut properties = Vec::new();
    for (index, field) in message.fields().filter(|f| f.name() != ADDITIONAL_DATA).enumerate() {
        let property = options.property(&field)?;
        let proto_name = field.name();
        let number = field.number();
        let required = options.required(&field)?;
        let Access { variant, kind, get, get_mut, complex } = Access::of(&field, enums)?;
        let complex = match complex {
            Some(m) if hierarchy::polymorphic_oneof(options, &m).is_some() => {
                let wrapper = naming::message_type(&m);
                quote!(Some(Complex::Polymorphic(&#wrapper::HIERARCHY)))
            }
            Some(m) => {
                let object = naming::message_type(&m);
                quote!(Some(Complex::Type(&<#object as GraphType>::INFO)))
            }
            None => quote!(None),
        };
        infos.push(quote! {
            PropertyInfo {
                graph_name: #property,
                proto_name: #proto_name,
                number: #number,
                required: #required,
                complex: #complex,
                kind: #kind,
            }
        });
        let index = Literal::usize_unsuffixed(index);
        properties.push(quote! {
            Property {
                info: &Self::INFO.properties[#index],
                get: |m| Value::#variant(#get),
                get_mut: |m| Slot::#variant(#get_mut),
            }
        });
    }
    if case_name.is_empty() != own_additional_data {
        return Err(Error::AdditionalDataPlacement { message: message.full_name().to_owned() });
    }
    let rust_type = naming::message_type(message);
    let additional_data = additional_data_number(message);
    let mut items = quote! {
        impl GraphType for #rust_type {
            const INFO: TypeInfo = TypeInfo {
                graph_name: #graph_name,
                odata_type: #odata_type,
                case_name: #case_name,
                open: #open,
                migrates_to: #migrates_to,
                properties: &[#(#infos,)*],
                additional_data: #additional_data,
            };
            const PROPERTIES: &'static [Property<Self>] = &[#(#properties,)*];
        }
    };
    if own_additional_data {
        let (additional_data, additional_data_mut) = additional_data_methods();
        items.extend(quote! {
            impl GraphView for #rust_type {
                fn shape(&self) -> Shape<'_> {
                    Shape::Known(&<Self as GraphType>::INFO)
                }

                fn value(&self, index: usize) -> Value<'_> {
                    (<Self as GraphType>::PROPERTIES[index].get)(self)
                }

                #additional_data
            }

            impl GraphObject for #rust_type {
                fn slot(&mut self, index: usize) -> Slot<'_> {
                    (<Self as GraphType>::PROPERTIES[index].get_mut)(self)
                }

                #additional_data_mut
            }
        });
    }
    Ok(items)
}

/// The field number of `message`'s additional_data, 0 if it has none.
pub(crate) fn additional_data_number(message: &MessageDescriptor) -> u32 {
    message.get_field_by_name(ADDITIONAL_DATA).map_or(0, |field| field.number())
}

/// Whether `message` has its additional_data field; refused if of another type than the
/// codec's `AdditionalData`.
pub(crate) fn has_additional_data(message: &MessageDescriptor) -> Result<bool, Error> {
    let Some(field) = message.get_field_by_name(ADDITIONAL_DATA) else {
        return Ok(false);
    };
    match field.kind() {
        Kind::Message(entry)
            if entry.is_map_entry()
                && entry.map_entry_key_field().kind() == Kind::String
                && entry.map_entry_value_field().kind() == Kind::String =>
        {
            Ok(true)
        }
        _ => Err(Error::AdditionalDataType { field: field.full_name().to_owned() }),
    }
}

/// The `GraphView` and `GraphObject` methods reaching a message's own additional_data field.
pub(crate) fn additional_data_methods() -> (TokenStream, TokenStream) {
    let view = quote! {
        fn additional_data(&self) -> &AdditionalData {
            &self.additional_data
        }
    };
    let object = quote! {
        fn additional_data_mut(&mut self) -> &mut AdditionalData {
            &mut self.additional_data
        }
    };
    (view, object)
}
