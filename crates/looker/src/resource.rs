//! The catalogue of Looker resources the extractor knows: endpoint, paging, primary key, write
//! disposition and incremental cursor of each.

use std::fmt;
use std::str::FromStr;

use package::schema::WriteDisposition;

/// A Looker resource: one endpoint, one destination table (plus its child tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Every user, embed users included.
    Users,
    /// Every look, soft-deleted excluded.
    Looks,
    /// Every user-defined dashboard, with its elements, filters and layouts.
    Dashboards,
    /// The queries referenced by looks, dashboard elements and scheduled plans.
    Queries,
    /// LookML projects.
    Projects,
    /// Folders, with their content lists.
    Folders,
    /// User groups.
    Groups,
    /// Roles, with their permission and model sets.
    Roles,
    /// LookML models and their explores.
    LookmlModels,
    /// Scheduled plans of every user.
    ScheduledPlans,
    /// Database connections.
    Connections,
    /// User attribute definitions.
    UserAttributes,
}

/// How a resource's endpoint is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `limit` + `offset` (offset sent from 0), with a stable `sorts` when the endpoint takes one.
    /// The last page is the first one shorter than `limit`.
    LimitOffset {
        /// The `sorts` parameter sent with every page, if any.
        sorts: Option<&'static str>,
    },
    /// One request returns every item.
    None,
    /// No list endpoint: items are fetched one by one by id (`{id}` in the endpoint), the ids coming
    /// from other resources (see [`ResourceSpec::referenced_by`]).
    ById,
}

impl fmt::Display for Paging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Paging::LimitOffset { sorts: Some(sorts) } => write!(f, "limit/offset, sorts={sorts}"),
            Paging::LimitOffset { sorts: None } => f.write_str("limit/offset"),
            Paging::None => f.write_str("single request"),
            Paging::ById => f.write_str("by id"),
        }
    }
}

/// Everything the extractor and the loader need to know about one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Path under `/api/4.0`, e.g. `/users`; `{id}` stands for the item id of [`Paging::ById`].
    pub endpoint: &'static str,
    /// How the endpoint is paged.
    pub paging: Paging,
    /// The item field that identifies an item (`id`, or `name` for connections and lookml_models).
    pub primary_key: &'static str,
    /// Default write disposition of the resource's table.
    pub write_disposition: WriteDisposition,
    /// The field an incremental load can use as cursor, where one exists.
    pub incremental_cursor: Option<&'static str>,
    /// The resource whose items this one is listed per (a per-parent sub-list); none in this catalogue.
    pub parent: Option<Resource>,
    /// Resources whose items reference this one's ids (for [`Paging::ById`]).
    pub referenced_by: &'static [Resource],
    /// Fixed query parameters sent with every request, e.g. `all_users=true`.
    pub query_params: &'static [(&'static str, &'static str)],
    /// One line for `looker-load resources`.
    pub description: &'static str,
}

/// Error of [`Resource::from_str`]: the name is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Looker resource `{name}`; valid resources: {}", Resource::names().join(", "))]
pub struct UnknownResource {
    /// The name given.
    pub name: String,
}

impl Resource {
    /// Every resource, in catalogue order.
    pub const ALL: [Resource; 12] = [
        Resource::Users,
        Resource::Looks,
        Resource::Dashboards,
        Resource::Queries,
        Resource::Projects,
        Resource::Folders,
        Resource::Groups,
        Resource::Roles,
        Resource::LookmlModels,
        Resource::ScheduledPlans,
        Resource::Connections,
        Resource::UserAttributes,
    ];

    /// The resources extracted when the configuration names none.
    pub const DEFAULT: [Resource; 5] = [
        Resource::Users,
        Resource::Looks,
        Resource::Dashboards,
        Resource::Queries,
        Resource::Projects,
    ];

    /// The resource's name: also its table name and its spelling in `resources = [...]`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Users => "users",
            Resource::Looks => "looks",
            Resource::Dashboards => "dashboards",
            Resource::Queries => "queries",
            Resource::Projects => "projects",
            Resource::Folders => "folders",
            Resource::Groups => "groups",
            Resource::Roles => "roles",
            Resource::LookmlModels => "lookml_models",
            Resource::ScheduledPlans => "scheduled_plans",
            Resource::Connections => "connections",
            Resource::UserAttributes => "user_attributes",
        }
    }

    /// The names of every resource, in catalogue order.
    pub fn names() -> Vec<&'static str> {
        Resource::ALL.iter().map(|r| r.name()).collect()
    }

    /// The resource's endpoint, paging, key and load settings.
    pub fn spec(self) -> ResourceSpec {
        const LO_ID: Paging = Paging::LimitOffset { sorts: Some("id") };
        let base = ResourceSpec {
            endpoint: "",
            paging: Paging::None,
            primary_key: "id",
            write_disposition: WriteDisposition::Replace,
            incremental_cursor: None,
            parent: None,
            referenced_by: &[],
            query_params: &[],
            description: "",
        };
        match self {
            Resource::Users => ResourceSpec {
                endpoint: "/users",
                paging: LO_ID,
                description: "every user (embed users included), with credentials and role/group ids",
                ..base
            },
            Resource::Looks => ResourceSpec {
                endpoint: "/looks/search",
                paging: LO_ID,
                incremental_cursor: Some("updated_at"),
                description: "saved looks (soft-deleted excluded), with model, folder and query id",
                ..base
            },
            Resource::Dashboards => ResourceSpec {
                endpoint: "/dashboards/search",
                paging: LO_ID,
                incremental_cursor: Some("updated_at"),
                description: "user-defined dashboards with their elements, filters and layouts",
                ..base
            },
            Resource::Queries => ResourceSpec {
                endpoint: "/queries/{id}",
                paging: Paging::ById,
                referenced_by: &[Resource::Looks, Resource::Dashboards, Resource::ScheduledPlans],
                description: "queries used by looks, dashboard elements and schedules (embedded ones reused, the rest fetched by id)",
                ..base
            },
            Resource::Projects => ResourceSpec {
                endpoint: "/projects",
                description: "LookML projects and their git settings",
                ..base
            },
            Resource::Folders => ResourceSpec {
                endpoint: "/folders/search",
                paging: LO_ID,
                description: "folders (personal ones included) with the dashboards and looks they hold",
                ..base
            },
            Resource::Groups => ResourceSpec {
                endpoint: "/groups",
                paging: LO_ID,
                description: "user groups",
                ..base
            },
            Resource::Roles => ResourceSpec {
                endpoint: "/roles",
                description: "roles with their permission sets and model sets",
                ..base
            },
            Resource::LookmlModels => ResourceSpec {
                endpoint: "/lookml_models",
                paging: Paging::LimitOffset { sorts: None },
                primary_key: "name",
                description: "LookML models with their explores",
                ..base
            },
            Resource::ScheduledPlans => ResourceSpec {
                endpoint: "/scheduled_plans",
                incremental_cursor: Some("updated_at"),
                query_params: &[("all_users", "true")],
                description: "scheduled deliveries of every user, with destinations",
                ..base
            },
            Resource::Connections => ResourceSpec {
                endpoint: "/connections",
                primary_key: "name",
                description: "database connections (passwords are never returned)",
                ..base
            },
            Resource::UserAttributes => ResourceSpec {
                endpoint: "/user_attributes",
                description: "user attribute definitions",
                ..base
            },
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Resource {
    type Err = UnknownResource;

    /// Parses a resource name, ignoring case and surrounding space; `-` may stand for `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Resource::ALL
            .into_iter()
            .find(|r| r.name() == wanted)
            .ok_or_else(|| UnknownResource { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_valid_names() {
        for r in Resource::ALL {
            assert_eq!(r.name().parse::<Resource>(), Ok(r));
            assert!(!r.spec().description.is_empty(), "{r}");
            assert!(r.spec().endpoint.starts_with('/'), "{r}");
        }
        assert_eq!(" LookML-Models ".parse::<Resource>(), Ok(Resource::LookmlModels));
        let err = "userz".parse::<Resource>().expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("userz") && text.contains("scheduled_plans"),
            "{text}"
        );
    }

    #[test]
    fn catalogue_facts() {
        assert_eq!(Resource::Connections.spec().primary_key, "name");
        assert_eq!(Resource::LookmlModels.spec().primary_key, "name");
        assert_eq!(Resource::Users.spec().primary_key, "id");
        assert_eq!(Resource::Queries.spec().paging, Paging::ById);
        assert_eq!(
            Resource::ScheduledPlans.spec().query_params,
            &[("all_users", "true")]
        );
        let with_cursor: Vec<_> = Resource::ALL
            .into_iter()
            .filter(|r| r.spec().incremental_cursor.is_some())
            .collect();
        assert_eq!(
            with_cursor,
            [Resource::Looks, Resource::Dashboards, Resource::ScheduledPlans]
        );
        assert!(
            Resource::ALL
                .iter()
                .all(|r| r.spec().write_disposition == WriteDisposition::Replace)
        );
    }
}
