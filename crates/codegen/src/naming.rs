//! Names: the Rust names prost gives the proto elements, and the naming rule of a polymorphic
//! Graph value's oneof cases.

use proc_macro2::{Ident, TokenStream};
use prost_reflect::{EnumDescriptor, FieldDescriptor, MessageDescriptor, OneofDescriptor};
use quote::{format_ident, quote};

use crate::Error;

/// The prost type of a message, e.g. `crate::pb::ResponseAction`.
pub(crate) fn message_type(message: &MessageDescriptor) -> TokenStream {
    let name = format_ident!("{}", message.name());
    quote!(crate::pb::#name)
}

/// The prost enum of a oneof, e.g. `crate::pb::response_action::Action`.
pub(crate) fn oneof_type(message: &MessageDescriptor, oneof: &OneofDescriptor) -> TokenStream {
    let module = format_ident!("{}", snake(message.name()));
    let name = format_ident!("{}", pascal(oneof.name()));
    quote!(crate::pb::#module::#name)
}

/// The variant of a oneof case in the oneof's enum, e.g. `IsolateDevice`.
pub(crate) fn case_variant(case: &FieldDescriptor) -> Ident {
    format_ident!("{}", pascal(case.name()))
}

/// The static holding an enum's `EnumSchema`, e.g. `ISOLATION_TYPE`.
pub(crate) fn enum_static(descriptor: &EnumDescriptor) -> Ident {
    format_ident!("{}", shouty(descriptor.name()))
}

/// A field, e.g. `isolation_type`.
pub(crate) fn field(field: &FieldDescriptor) -> Ident {
    format_ident!("{}", field.name())
}

/// The case holding the Graph type `graph_name` in a oneof of the message `root_name` is the
/// Graph type without the root's suffix in snake_case (`isolate_device` for
/// `isolateDeviceResponseAction` in `ResponseAction`), and holds a message named after the Graph
/// type in PascalCase (`IsolateDeviceResponseAction`): a case's name says its type.
pub(crate) fn check_case(
    case: &FieldDescriptor,
    message: &MessageDescriptor,
    graph_name: &str,
    root_name: &str,
) -> Result<(), Error> {
    let expected_message = pascal(graph_name);
    let expected_case = snake(graph_name.strip_suffix(root_name).unwrap_or(graph_name));
    if message.name() == expected_message && case.name() == expected_case {
        return Ok(());
    }
    Err(Error::CaseNaming {
        graph_type: graph_name.to_owned(),
        expected_case,
        expected_message,
        case: case.full_name().to_owned(),
        message: message.name().to_owned(),
    })
}

fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn shouty(name: &str) -> String {
    snake(name).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_capitalizes_each_word() {
        assert_eq!(pascal("isolate_device"), "IsolateDevice");
        assert_eq!(pascal("isolateDeviceResponseAction"), "IsolateDeviceResponseAction");
        assert_eq!(pascal("action"), "Action");
        assert_eq!(pascal("oAuthApplicationEntityMapping"), "OAuthApplicationEntityMapping");
    }

    #[test]
    fn snake_splits_before_each_capital() {
        assert_eq!(snake("ResponseAction"), "response_action");
        assert_eq!(snake("unIsolateDeviceIncidentTask"), "un_isolate_device_incident_task");
        assert_eq!(snake("impactedDeviceAsset"), "impacted_device_asset");
        assert_eq!(snake("action"), "action");
    }

    #[test]
    fn shouty_is_upper_snake() {
        assert_eq!(shouty("IsolationType"), "ISOLATION_TYPE");
        assert_eq!(shouty("StopAndQuarantineFileEntityIdentifier"), "STOP_AND_QUARANTINE_FILE_ENTITY_IDENTIFIER");
    }
}
