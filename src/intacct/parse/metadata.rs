//! `lookup` and `inspect` data into [`ObjectMeta`]: one per `<Type Name=…>`.
//!
//! Both shapes are read by element name: `lookup` fields carry `ID`, `LABEL`, `DATATYPE`,
//! `REQUIRED`, `READONLY`, `VALIDVALUES/VALIDVALUE`, `ISCUSTOM`; `inspect detail="1"` fields
//! carry `Name`, `DisplayLabel`, `externalDataName`, `isRequired`, `isReadOnly`, `maxLength`
//! (its lower-case `id` is a numeric id, not the field name). `inspect` without detail lists
//! bare names (`<Field>RECORDNO</Field>`): such fields get the type `Other("")`, meaning
//! "not reported" (downstream treats it as text), rather than a guessed `Text`. A
//! `maxLength` of 0, which Intacct sends for fields without a stated limit, is `None`.

use super::{Child, Ev, Parser, text};
use crate::error::Result;
use crate::intacct::response::{FieldMeta, IntacctType, ObjectMeta};

/// `true`/`T`/`1`/`yes`, any case.
fn flag(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "t" | "1" | "yes"
    )
}

impl<'a> Parser<'a> {
    /// Reads every `<Type>` of a `<data>` element, `first` being the first one's start.
    pub(super) fn objects(&mut self, first: Child<'a>) -> Result<Vec<ObjectMeta>> {
        let mut objects = Vec::new();
        let mut next = Some(first);
        while let Some(element) = next {
            if element.name == "Type" {
                objects.push(self.object(&element)?);
            } else {
                self.skip(&element)?;
            }
            next = self.child()?;
        }
        Ok(objects)
    }

    fn object(&mut self, element: &Child<'a>) -> Result<ObjectMeta> {
        let name = self.attribute(&element.tag, "Name")?.unwrap_or_default();
        let mut fields = Vec::new();
        if !element.empty {
            while let Some(child) = self.child()? {
                if child.name != "Fields" || child.empty {
                    self.skip(&child)?;
                    continue;
                }
                while let Some(field) = self.child()? {
                    if field.name == "Field" && !field.empty {
                        fields.push(self.field()?);
                    } else {
                        self.skip(&field)?;
                    }
                }
            }
        }
        Ok(ObjectMeta { name, fields })
    }

    /// One `<Field>`, its start tag consumed.
    fn field(&mut self) -> Result<FieldMeta> {
        let mut meta = FieldMeta::new(String::new(), IntacctType::Other(String::new()));
        let mut bare = String::new();
        loop {
            let child = match self.next()? {
                Ev::Text(raw) => {
                    text::push_literal(&mut bare, &raw);
                    continue;
                }
                Ev::Ref(name) => {
                    text::push_reference(&mut bare, &name);
                    continue;
                }
                Ev::Start { name, tag, .. } => Child {
                    name,
                    tag,
                    empty: false,
                },
                Ev::Empty { name, tag, .. } => Child {
                    name,
                    tag,
                    empty: true,
                },
                Ev::End { .. } => break,
                Ev::Eof => return Err(self.truncated()),
            };
            bare.clear();
            match child.name {
                "ID" | "Name" => meta.name = self.text_of(&child)?.trim().to_owned(),
                "LABEL" | "DisplayLabel" => meta.label = self.optional_text_of(&child)?,
                "DATATYPE" | "externalDataName" => {
                    meta.data_type = IntacctType::from_intacct(&self.text_of(&child)?);
                }
                "REQUIRED" | "isRequired" => meta.required = flag(&self.text_of(&child)?),
                "READONLY" | "isReadOnly" => meta.read_only = flag(&self.text_of(&child)?),
                "ISCUSTOM" | "isCustom" => meta.is_custom = flag(&self.text_of(&child)?),
                "maxLength" => {
                    let raw = self.text_of(&child)?;
                    meta.max_length = raw.trim().parse::<u32>().ok().filter(|&n| n > 0);
                }
                "VALIDVALUES" if !child.empty => {
                    while let Some(value) = self.child()? {
                        if value.name == "VALIDVALUE" {
                            meta.valid_values.push(self.text_of(&value)?);
                        } else {
                            self.skip(&value)?;
                        }
                    }
                }
                _ => self.skip(&child)?,
            }
        }
        if meta.name.is_empty() {
            meta.name = bare.trim().to_owned();
        }
        if meta.name.is_empty() {
            return Err(self.structure_error("<Field> without a name"));
        }
        Ok(meta)
    }
}
