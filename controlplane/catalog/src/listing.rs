//! `ListDatasets` and `ListArtifacts` requests made into store queries:
//! datacatalog's filters (equality on one property each) and its
//! pagination (the token is the number of rows already read, newest first
//! unless asked otherwise). A filter or page the catalog cannot run is
//! refused, naming the field.

use updraft_proto::datacatalog::{
    self, FilterExpression, PaginationOptions, pagination_options, single_property_filter,
};

use crate::error::CatalogError;
use crate::store::{ArtifactFilter, DatasetListQuery, Page};

/// A page when the request names no size, as datacatalog answers.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page one call returns.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// The page `pagination` asks for.
pub(crate) fn page(pagination: Option<&PaginationOptions>) -> Result<Page, CatalogError> {
    let Some(pagination) = pagination else {
        return Ok(Page {
            limit: i64::from(DEFAULT_PAGE_SIZE),
            offset: 0,
            descending: true,
        });
    };
    let token = pagination.token.trim();
    let offset = if token.is_empty() {
        0
    } else {
        token.parse::<u32>().map_err(|_| {
            CatalogError::invalid(format!(
                "pagination.token {token:?} is not a page token: pass back the next_token a \
                 previous list answered, or nothing for the first page"
            ))
        })?
    };
    let limit = match pagination.limit {
        0 => DEFAULT_PAGE_SIZE,
        limit if limit > MAX_PAGE_SIZE => {
            return Err(CatalogError::invalid(format!(
                "pagination.limit {limit} is larger than the largest page, {MAX_PAGE_SIZE}"
            )));
        }
        limit => limit,
    };
    if pagination_options::SortKey::try_from(pagination.sort_key).is_err() {
        return Err(CatalogError::invalid(format!(
            "pagination.sortKey {} is not a sort key: only CREATION_TIME (0) is",
            pagination.sort_key
        )));
    }
    let descending = match pagination_options::SortOrder::try_from(pagination.sort_order) {
        Ok(pagination_options::SortOrder::Descending) => true,
        Ok(pagination_options::SortOrder::Ascending) => false,
        Err(_) => {
            return Err(CatalogError::invalid(format!(
                "pagination.sortOrder {} is not a sort order: DESCENDING (0) or ASCENDING (1)",
                pagination.sort_order
            )));
        }
    };
    Ok(Page {
        limit: i64::from(limit),
        offset: i64::from(offset),
        descending,
    })
}

/// The token of the page after `page`, which held `count` rows. As from
/// datacatalog, it is there even after the last page (a list is read to
/// its end when a page comes back empty).
pub(crate) fn next_token(page: &Page, count: usize) -> String {
    (page.offset + i64::try_from(count).unwrap_or(i64::MAX)).to_string()
}

/// The filters of `filter`, each checked for the operator and a value.
fn each_filter(
    filter: Option<&FilterExpression>,
) -> impl Iterator<Item = Result<(String, &single_property_filter::PropertyFilter), CatalogError>> {
    filter
        .map(|expression| expression.filters.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, single)| {
            let field = format!("filter.filters[{index}]");
            if single_property_filter::ComparisonOperator::try_from(single.operator).is_err() {
                return Err(CatalogError::invalid(format!(
                    "{field}.operator {} is not supported: only EQUALS (0) is",
                    single.operator
                )));
            }
            let property = single.property_filter.as_ref().ok_or_else(|| {
                CatalogError::invalid(format!("{field} names no property to filter on"))
            })?;
            Ok((field, property))
        })
}

fn value(value: &str, field: String) -> Result<String, CatalogError> {
    if value.is_empty() {
        Err(CatalogError::invalid(format!("{field} is required")))
    } else {
        Ok(value.to_string())
    }
}

/// The conditions of a `ListDatasets` filter: only dataset properties.
pub(crate) fn dataset_conditions(
    filter: Option<&FilterExpression>,
) -> Result<Vec<(&'static str, String)>, CatalogError> {
    use single_property_filter::PropertyFilter;
    each_filter(filter)
        .map(|filter| {
            let (field, property) = filter?;
            match property {
                PropertyFilter::DatasetFilter(datacatalog::DatasetPropertyFilter {
                    property: Some(property),
                }) => {
                    let (column, text) = DatasetListQuery::column_of(property).ok_or_else(|| {
                        CatalogError::invalid(format!(
                            "{field}.dataset_filter.org is not supported: datasets have no org here"
                        ))
                    })?;
                    Ok((
                        column,
                        value(text, format!("{field}.dataset_filter.{column}"))?,
                    ))
                }
                PropertyFilter::DatasetFilter(_) => Err(CatalogError::invalid(format!(
                    "{field}.dataset_filter names no property"
                ))),
                PropertyFilter::TagFilter(_) => Err(CatalogError::invalid(format!(
                    "{field}: datasets cannot be filtered by tag properties"
                ))),
                PropertyFilter::PartitionFilter(_) => Err(CatalogError::invalid(format!(
                    "{field}: datasets cannot be filtered by partition properties"
                ))),
                PropertyFilter::ArtifactFilter(_) => Err(CatalogError::invalid(format!(
                    "{field}: datasets cannot be filtered by artifact properties"
                ))),
            }
        })
        .collect()
}

/// The conditions of a `ListArtifacts` filter: artifact, tag and partition
/// properties (the dataset is the request's own).
pub(crate) fn artifact_filters(
    filter: Option<&FilterExpression>,
) -> Result<Vec<ArtifactFilter>, CatalogError> {
    use datacatalog::{artifact_property_filter, partition_property_filter, tag_property_filter};
    use single_property_filter::PropertyFilter;
    each_filter(filter)
        .map(|filter| {
            let (field, property) = filter?;
            match property {
                PropertyFilter::ArtifactFilter(datacatalog::ArtifactPropertyFilter {
                    property: Some(artifact_property_filter::Property::ArtifactId(artifact_id)),
                }) => Ok(ArtifactFilter::ArtifactId(value(
                    artifact_id,
                    format!("{field}.artifact_filter.artifact_id"),
                )?)),
                PropertyFilter::TagFilter(datacatalog::TagPropertyFilter {
                    property: Some(tag_property_filter::Property::TagName(tag_name)),
                }) => Ok(ArtifactFilter::TagName(value(
                    tag_name,
                    format!("{field}.tag_filter.tag_name"),
                )?)),
                PropertyFilter::PartitionFilter(datacatalog::PartitionPropertyFilter {
                    property: Some(partition_property_filter::Property::KeyVal(pair)),
                }) => Ok(ArtifactFilter::Partition {
                    key: value(&pair.key, format!("{field}.partition_filter.key_val.key"))?,
                    value: value(&pair.value, format!("{field}.partition_filter.key_val.value"))?,
                }),
                PropertyFilter::DatasetFilter(_) => Err(CatalogError::invalid(format!(
                    "{field}: artifacts cannot be filtered by dataset properties (the dataset is the request's)"
                ))),
                _ => Err(CatalogError::invalid(format!("{field} names no property"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_default_as_datacatalog_and_refuse_bad_tokens() {
        assert_eq!(
            page(None).unwrap(),
            Page {
                limit: 50,
                offset: 0,
                descending: true
            }
        );
        let asked = PaginationOptions {
            limit: 2,
            token: "4".into(),
            sort_key: 0,
            sort_order: pagination_options::SortOrder::Ascending as i32,
        };
        assert_eq!(
            page(Some(&asked)).unwrap(),
            Page {
                limit: 2,
                offset: 4,
                descending: false
            }
        );
        let bad = PaginationOptions {
            token: "abc".into(),
            ..asked.clone()
        };
        assert!(
            page(Some(&bad))
                .unwrap_err()
                .to_string()
                .contains("pagination.token")
        );
        let bad = PaginationOptions {
            sort_order: 7,
            ..asked
        };
        assert!(
            page(Some(&bad))
                .unwrap_err()
                .to_string()
                .contains("pagination.sortOrder")
        );
    }
}
