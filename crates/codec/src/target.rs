//! What the reader fills as it reads Graph JSON: messages (`dyn GraphObject`, for the library's
//! callers and the offline tool) or the protobuf encoding of the response, written as it is read
//! (`Encoder`, for the sidecar: no message tree is built, encoded and dropped per call).
//!
//! Nested values are opened and ended explicitly, so that the same object stands for each level
//! of an encoding written in one buffer.

use crate::schema::{GraphObject, GraphView, Hierarchy, ObjectList, ObjectSlot, Shape, Slot, Value};

/// One object being read, and the objects nested in it.
pub trait Target {
    /// The hierarchy of a polymorphic value; `None` for a value of one type.
    fn hierarchy(&self) -> Option<&'static Hierarchy>;
    fn shape(&self) -> Shape<'_>;
    /// Makes a polymorphic value one of the type `qualified_name`; false (the unknown case) when
    /// no type has that name.
    fn select(&mut self, qualified_name: &str) -> bool;
    /// The slot of scalar property `index`, to be read into.
    fn slot(&mut self, index: usize) -> Slot<'_>;
    /// Scalar property `index` was read into its slot.
    fn read(&mut self, index: usize);
    /// Whether property `index` holds a value.
    fn is_set(&self, index: usize) -> bool;
    /// Keeps the member `key` raw, in additional_data.
    fn keep_raw(&mut self, key: &str, raw: &str);
    /// Opens the value of object property `index`: what follows fills it, until `end_object`.
    fn object(&mut self, index: usize) -> &mut Self;
    /// Ends the value opened by `object`, keeping it or not.
    fn end_object(&mut self, index: usize, keep: bool);
    /// Starts collection property `index`, empty.
    fn begin_list(&mut self, index: usize);
    /// Opens a new item of collection property `index`, until `end_item`.
    fn item(&mut self, index: usize) -> &mut Self;
    /// Ends the item opened by `item`, keeping it or not.
    fn end_item(&mut self, index: usize, keep: bool);
    /// The items kept so far of collection property `index`.
    fn items(&self, index: usize) -> usize;
    /// Empties collection property `index` again.
    fn clear_list(&mut self, index: usize);
}

/// A top-level collection of objects being read (FromGraph's actions).
pub trait Items {
    type Item: Target + ?Sized;
    /// The items kept so far.
    fn len(&self) -> usize;
    /// Opens a new item, until `end`.
    fn push(&mut self) -> &mut Self::Item;
    /// Ends the item opened by `push`, keeping it or not.
    fn end(&mut self, keep: bool);
    /// Makes room for `more` items like the first, `first_len` bytes of JSON.
    fn reserve(&mut self, more: usize, first_len: usize);
}

impl Target for dyn GraphObject {
    fn hierarchy(&self) -> Option<&'static Hierarchy> {
        <Self as GraphView>::hierarchy(self)
    }

    fn shape(&self) -> Shape<'_> {
        <Self as GraphView>::shape(self)
    }

    fn select(&mut self, qualified_name: &str) -> bool {
        <Self as GraphObject>::select(self, qualified_name)
    }

    fn slot(&mut self, index: usize) -> Slot<'_> {
        <Self as GraphObject>::slot(self, index)
    }

    fn read(&mut self, _index: usize) {}

    fn is_set(&self, index: usize) -> bool {
        self.value(index).is_set()
    }

    fn keep_raw(&mut self, key: &str, raw: &str) {
        self.additional_data_mut().insert(key.to_owned(), raw.to_owned());
    }

    fn object(&mut self, index: usize) -> &mut Self {
        object_slot(self, index).fill()
    }

    fn end_object(&mut self, index: usize, keep: bool) {
        if !keep {
            object_slot(self, index).clear();
        }
    }

    fn begin_list(&mut self, index: usize) {
        self.clear_list(index);
    }

    fn item(&mut self, index: usize) -> &mut Self {
        object_list(self, index).push()
    }

    fn end_item(&mut self, index: usize, keep: bool) {
        if !keep {
            object_list(self, index).pop();
        }
    }

    fn items(&self, index: usize) -> usize {
        match self.value(index) {
            Value::Objects(list) => list.len(),
            _ => unreachable!("property {index} holds a collection of objects"),
        }
    }

    fn clear_list(&mut self, index: usize) {
        object_list(self, index).clear();
    }
}

fn object_slot(object: &mut dyn GraphObject, index: usize) -> &mut dyn ObjectSlot {
    match object.slot(index) {
        Slot::Object(slot) => slot,
        _ => unreachable!("property {index} holds one object"),
    }
}

fn object_list(object: &mut dyn GraphObject, index: usize) -> &mut dyn ObjectList {
    match object.slot(index) {
        Slot::Objects(list) => list,
        _ => unreachable!("property {index} holds a collection of objects"),
    }
}

impl<M: GraphObject + Default + 'static> Items for Vec<M> {
    type Item = dyn GraphObject;

    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn push(&mut self) -> &mut Self::Item {
        ObjectList::push(self)
    }

    fn end(&mut self, keep: bool) {
        if !keep {
            ObjectList::pop(self);
        }
    }

    fn reserve(&mut self, more: usize, _first_len: usize) {
        Vec::reserve(self, more);
    }
}
