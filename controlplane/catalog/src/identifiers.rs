//! The catalog's identifiers, parsed once from their protobuf form: a
//! request whose id lacks a part is refused here, naming the field.

use std::fmt;

use updraft_proto::datacatalog;

use crate::error::CatalogError;

/// A dataset's key, as datacatalog keys datasets (its `UUID` is a column of
/// the row, not part of the key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatasetKey {
    /// The project.
    pub project: String,
    /// The name (`flyte_task-<task name>` for a cached task).
    pub name: String,
    /// The domain.
    pub domain: String,
    /// The version (`<cache version>-<inputs hash>-<outputs hash>` for a
    /// cached task).
    pub version: String,
}

impl DatasetKey {
    /// The key of `id`; `field` is where the request holds it (`dataset`,
    /// `artifact.dataset`), for the message when a part is missing.
    pub fn parse(id: Option<&datacatalog::DatasetId>, field: &str) -> Result<Self, CatalogError> {
        let id = id.ok_or_else(|| CatalogError::invalid(format!("{field} is required")))?;
        let part = |value: &str, part: &str| {
            if value.trim().is_empty() {
                Err(CatalogError::invalid(format!("{field}.{part} is required")))
            } else {
                Ok(value.to_string())
            }
        };
        Ok(Self {
            project: part(&id.project, "project")?,
            name: part(&id.name, "name")?,
            domain: part(&id.domain, "domain")?,
            version: part(&id.version, "version")?,
        })
    }

    /// The protobuf id of the dataset with this key and `uuid`.
    pub fn to_dataset_id(&self, uuid: &str) -> datacatalog::DatasetId {
        datacatalog::DatasetId {
            project: self.project.clone(),
            name: self.name.clone(),
            domain: self.domain.clone(),
            version: self.version.clone(),
            uuid: uuid.to_string(),
            org: String::new(),
        }
    }
}

impl fmt::Display for DatasetKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "dataset {}/{}/{} version {}",
            self.project, self.domain, self.name, self.version
        )
    }
}

/// What a reservation is for: one tag of one dataset (for a cached task, one
/// set of inputs), whether or not the dataset exists yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReservationKey {
    /// The dataset.
    pub dataset: DatasetKey,
    /// The tag the holder will put.
    pub tag_name: String,
}

impl ReservationKey {
    /// The key of `id`, found at `field` in the request.
    pub fn parse(
        id: Option<&datacatalog::ReservationId>,
        field: &str,
    ) -> Result<Self, CatalogError> {
        let id = id.ok_or_else(|| CatalogError::invalid(format!("{field} is required")))?;
        Ok(Self {
            dataset: DatasetKey::parse(id.dataset_id.as_ref(), &format!("{field}.dataset_id"))?,
            tag_name: required(&id.tag_name, &format!("{field}.tag_name"))?.to_string(),
        })
    }

    /// The protobuf id of this reservation.
    pub fn to_reservation_id(&self) -> datacatalog::ReservationId {
        datacatalog::ReservationId {
            dataset_id: Some(self.dataset.to_dataset_id("")),
            tag_name: self.tag_name.clone(),
        }
    }
}

impl fmt::Display for ReservationKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "tag {} of {}", self.tag_name, self.dataset)
    }
}

/// `value`, unless it is blank: then an error naming `field`.
pub(crate) fn required<'value>(
    value: &'value str,
    field: &str,
) -> Result<&'value str, CatalogError> {
    if value.trim().is_empty() {
        Err(CatalogError::invalid(format!("{field} is required")))
    } else {
        Ok(value)
    }
}

/// `value`, unless it cannot be one folder of an object-store path (the
/// catalog keeps artifact data under
/// `…/<project>/<domain>/<name>/<version>/<artifact id>/<output name>/`).
pub(crate) fn path_segment<'value>(
    value: &'value str,
    field: &str,
) -> Result<&'value str, CatalogError> {
    let unusable = value.is_empty()
        || value == "."
        || value == ".."
        || value.contains('/')
        || value.contains('\\')
        || value.chars().any(char::is_control);
    if unusable {
        Err(CatalogError::invalid(format!(
            "{field} {value:?} cannot name a folder of the object store: it must not be empty, \
             `.` or `..`, nor hold `/`, `\\` or control characters"
        )))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_part_is_named_by_its_field() {
        let id = datacatalog::DatasetId {
            project: "flytesnacks".into(),
            name: "flyte_task-add".into(),
            domain: "development".into(),
            version: " ".into(),
            ..Default::default()
        };
        let error = DatasetKey::parse(Some(&id), "artifact.dataset").unwrap_err();
        assert_eq!(error.to_string(), "artifact.dataset.version is required");
        let error = DatasetKey::parse(None, "dataset").unwrap_err();
        assert_eq!(error.to_string(), "dataset is required");
    }

    #[test]
    fn path_segments_refuse_what_would_leave_their_folder() {
        assert!(path_segment("o0", "name").is_ok());
        assert!(path_segment("1.0-8ueHozKE-7VS6zKbE", "version").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
            assert!(path_segment(bad, "name").is_err(), "{bad:?}");
        }
    }
}
