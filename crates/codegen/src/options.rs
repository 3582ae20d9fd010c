//! The graphbridge.v1 custom options (declared in proto/graphbridge/v1/graph.proto), read from
//! the descriptors.

use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, EnumValueDescriptor, ExtensionDescriptor, FieldDescriptor,
    MessageDescriptor,
};

use crate::Error;

/// The package of the options and of the messages that carry them.
pub(crate) const PACKAGE: &str = "graphbridge.v1";

/// The declarations of the custom options.
pub(crate) struct Options {
    namespace: ExtensionDescriptor,
    graph_type: ExtensionDescriptor,
    open_type: ExtensionDescriptor,
    migrates_to: ExtensionDescriptor,
    property: ExtensionDescriptor,
    required: ExtensionDescriptor,
    key: ExtensionDescriptor,
    read_only: ExtensionDescriptor,
    retired: ExtensionDescriptor,
    graph_enum: ExtensionDescriptor,
    member: ExtensionDescriptor,
    column: ExtensionDescriptor,
}

impl Options {
    pub(crate) fn read(pool: &DescriptorPool) -> Result<Self, Error> {
        let ext = |name: &'static str| {
            pool.get_extension_by_name(&format!("{PACKAGE}.{name}")).ok_or(Error::UndeclaredOption(name))
        };
        Ok(Self {
            namespace: ext("graph_namespace")?,
            graph_type: ext("graph_type")?,
            open_type: ext("graph_open_type")?,
            migrates_to: ext("graph_migrates_to")?,
            property: ext("graph_property")?,
            required: ext("graph_required")?,
            key: ext("graph_key")?,
            read_only: ext("graph_read_only")?,
            retired: ext("graph_retired")?,
            graph_enum: ext("graph_enum")?,
            member: ext("graph_member")?,
            column: ext("graph_column")?,
        })
    }

    /// The Graph type a message holds; `None` for a message that is no Graph type.
    pub(crate) fn graph_type(&self, message: &MessageDescriptor) -> Option<String> {
        string(&message.options(), &self.graph_type)
    }

    /// The OData namespace of the Graph type `message`, set once for its file.
    pub(crate) fn namespace(&self, message: &MessageDescriptor) -> Result<String, Error> {
        let file = message.parent_file();
        string(&file.options(), &self.namespace)
            .ok_or_else(|| Error::NoNamespace { file: file.name().to_owned(), message: message.full_name().to_owned() })
    }

    pub(crate) fn open_type(&self, message: &MessageDescriptor) -> bool {
        flag(&message.options(), &self.open_type)
    }

    /// Empty for a type of the current rule shape.
    pub(crate) fn migrates_to(&self, message: &MessageDescriptor) -> String {
        string(&message.options(), &self.migrates_to).unwrap_or_default()
    }

    pub(crate) fn property(&self, field: &FieldDescriptor) -> Result<String, Error> {
        string(&field.options(), &self.property)
            .ok_or_else(|| Error::NoProperty { field: field.full_name().to_owned() })
    }

    /// Whether ToGraph refuses to write the object without `field`. Never a field a writer need
    /// not send: the key, a read-only one, or one of the retired shape only.
    pub(crate) fn required(&self, field: &FieldDescriptor) -> Result<bool, Error> {
        let options = field.options();
        if !flag(&options, &self.required) {
            return Ok(false);
        }
        let exempt = [("graph_key", &self.key), ("graph_read_only", &self.read_only), ("graph_retired", &self.retired)];
        match exempt.into_iter().find(|(_, ext)| flag(&options, ext)) {
            Some((option, _)) => Err(Error::RequiredExempt { field: field.full_name().to_owned(), option }),
            None => Ok(true),
        }
    }

    pub(crate) fn graph_enum(&self, descriptor: &EnumDescriptor) -> Result<String, Error> {
        string(&descriptor.options(), &self.graph_enum)
            .ok_or_else(|| Error::NoGraphEnum { name: descriptor.full_name().to_owned() })
    }

    pub(crate) fn member(&self, value: &EnumValueDescriptor) -> Result<String, Error> {
        string(&value.options(), &self.member).ok_or_else(|| Error::NoMember { value: value.full_name().to_owned() })
    }

    /// The raw "property=Column" text of an identifier of the retired rule shape.
    pub(crate) fn column(&self, value: &EnumValueDescriptor) -> Option<String> {
        string(&value.options(), &self.column)
    }
}

/// A string option, if set.
fn string(options: &DynamicMessage, ext: &ExtensionDescriptor) -> Option<String> {
    options.has_extension(ext).then(|| options.get_extension(ext).as_str().unwrap_or_default().to_owned())
}

/// A bool option: false unless set to true.
fn flag(options: &DynamicMessage, ext: &ExtensionDescriptor) -> bool {
    options.has_extension(ext) && options.get_extension(ext).as_bool() == Some(true)
}
