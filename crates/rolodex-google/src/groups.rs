//! Contact groups ("labels"), which is how Google Contacts holds Rolodex `tags`.
//!
//! A [`GroupDirectory`] is the account's groups as `GET /v1/contactGroups` lists them
//! (`contactGroups[]` with `resourceName`, `name`, `formattedName`, `groupType`). User groups
//! (`USER_CONTACT_GROUP`) are tags, by `name`; system groups (`SYSTEM_CONTACT_GROUP`: `myContacts`,
//! `starred`, `friends`, ...) are never tags. This module is pure: fetching, caching and creating
//! groups over HTTP is [`crate::client`]'s. The contactGroups endpoints are not in the provider
//! fact sheet; the shapes follow the public People API reference.

use std::collections::{BTreeMap, BTreeSet};

use rolodex_http::json::nullable_vec;
use serde::Deserialize;

/// The group every contact of "Contacts" belongs to; writes keep it so the contact stays visible.
pub const MY_CONTACTS: &str = "contactGroups/myContacts";

/// Ids of Google's system groups, recognised even before the directory is loaded.
pub const SYSTEM_GROUP_IDS: [&str; 8] =
    ["myContacts", "starred", "friends", "family", "coworkers", "chatBuddies", "all", "blocked"];

/// `groupType` of a contact group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum GroupType {
    /// A label the user made: a tag.
    #[serde(rename = "USER_CONTACT_GROUP")]
    User,
    /// A group Google defines (`myContacts`, `starred`, ...).
    #[serde(rename = "SYSTEM_CONTACT_GROUP")]
    System,
    /// Absent or a value this adapter does not know: treated as a user group when named.
    #[default]
    #[serde(other, rename = "GROUP_TYPE_UNSPECIFIED")]
    Unspecified,
}

/// One `ContactGroup` as listed or created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactGroup {
    /// `contactGroups/{id}`.
    pub resource_name: String,
    /// The name the user gave (user groups) or Google's id-like name (system groups).
    #[serde(default)]
    pub name: Option<String>,
    /// The name in the user's locale (system groups are translated).
    #[serde(default)]
    pub formatted_name: Option<String>,
    /// User or system group.
    #[serde(default)]
    pub group_type: GroupType,
}

impl ContactGroup {
    /// Whether this group is one of Google's own (never a tag).
    #[must_use]
    pub fn is_system(&self) -> bool {
        self.group_type == GroupType::System || is_system_resource(&self.resource_name)
    }

    /// The tag this group stands for: the `name` (else `formattedName`) of a user group.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        if self.is_system() {
            return None;
        }
        [self.name.as_deref(), self.formatted_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|n| !n.is_empty())
    }
}

/// `contactGroups/{id}` with a well-known system id.
#[must_use]
pub fn is_system_resource(resource_name: &str) -> bool {
    resource_name.strip_prefix("contactGroups/").is_some_and(|id| SYSTEM_GROUP_IDS.contains(&id))
}

/// One page of `GET /v1/contactGroups`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListGroupsResponse {
    #[serde(default, deserialize_with = "nullable_vec")]
    pub contact_groups: Vec<ContactGroup>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// The account's contact groups by resource name, with user groups also by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDirectory {
    by_resource: BTreeMap<String, ContactGroup>,
    by_tag: BTreeMap<String, String>,
}

impl GroupDirectory {
    /// A directory of `groups` (later entries win on a repeated resource name).
    #[must_use]
    pub fn new(groups: impl IntoIterator<Item = ContactGroup>) -> Self {
        let mut directory = Self::default();
        for g in groups {
            directory.insert(g);
        }
        directory
    }

    /// Adds (or replaces) a group.
    pub fn insert(&mut self, group: ContactGroup) {
        if let Some(tag) = group.tag() {
            self.by_tag.entry(tag.to_owned()).or_insert_with(|| group.resource_name.clone());
        }
        self.by_resource.insert(group.resource_name.clone(), group);
    }

    /// Whether the directory knows `resource_name`.
    #[must_use]
    pub fn knows(&self, resource_name: &str) -> bool {
        self.by_resource.contains_key(resource_name)
    }

    /// Whether `resource_name` is a system group (a well-known id, or listed as one).
    #[must_use]
    pub fn is_system(&self, resource_name: &str) -> bool {
        is_system_resource(resource_name) || self.by_resource.get(resource_name).is_some_and(ContactGroup::is_system)
    }

    /// The tag of a membership: the name of the user group `resource_name`, or `None` for system
    /// groups and groups the directory does not know.
    #[must_use]
    pub fn tag_of(&self, resource_name: &str) -> Option<&str> {
        self.by_resource.get(resource_name).and_then(ContactGroup::tag)
    }

    /// The user group named `tag` (exactly, else ignoring case).
    #[must_use]
    pub fn group_for_tag(&self, tag: &str) -> Option<&str> {
        let tag = tag.trim();
        self.by_tag
            .get(tag)
            .or_else(|| self.by_tag.iter().find(|(name, _)| name.eq_ignore_ascii_case(tag)).map(|(_, r)| r))
            .map(String::as_str)
    }

    /// The user-group memberships among `memberships` the directory cannot name yet (a reason to
    /// list the groups again).
    #[must_use]
    pub fn unknown<'a>(&self, memberships: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        memberships.into_iter().filter(|r| !is_system_resource(r) && !self.knows(r)).map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn directory() -> GroupDirectory {
        let groups: ListGroupsResponse = rolodex_http::json::from_value(json!({"contactGroups": [
            {"resourceName":"contactGroups/myContacts","groupType":"SYSTEM_CONTACT_GROUP","name":"myContacts","formattedName":"My Contacts"},
            {"resourceName":"contactGroups/starred","name":"starred","formattedName":"Starred"},
            {"resourceName":"contactGroups/3a1f","groupType":"USER_CONTACT_GROUP","name":"VIP","formattedName":"VIP"},
            {"resourceName":"contactGroups/7b2e","groupType":"USER_CONTACT_GROUP","formattedName":"Only Formatted"},
            {"resourceName":"contactGroups/9c3d","groupType":"SOMETHING_NEW","name":"future"}
        ], "nextPageToken": null}))
        .unwrap();
        GroupDirectory::new(groups.contact_groups)
    }

    #[test]
    fn user_groups_are_tags_system_groups_are_not() {
        let d = directory();
        assert_eq!(d.tag_of("contactGroups/3a1f"), Some("VIP"));
        assert_eq!(d.tag_of("contactGroups/7b2e"), Some("Only Formatted"));
        assert_eq!(d.tag_of("contactGroups/9c3d"), Some("future"), "an unknown type with a name is a label");
        assert_eq!(d.tag_of("contactGroups/myContacts"), None);
        assert_eq!(d.tag_of("contactGroups/starred"), None, "a well-known system id even without groupType");
        assert_eq!(d.tag_of("contactGroups/gone"), None);
        assert_eq!(d.group_for_tag("VIP"), Some("contactGroups/3a1f"));
        assert_eq!(d.group_for_tag(" vip "), Some("contactGroups/3a1f"));
        assert_eq!(d.group_for_tag("myContacts"), None, "system groups are not tags");
        assert_eq!(d.group_for_tag("nope"), None);
        assert!(d.is_system("contactGroups/myContacts") && d.is_system("contactGroups/blocked"));
        assert!(!d.is_system("contactGroups/3a1f") && !d.is_system("contactGroups/gone"));
    }

    #[test]
    fn unknown_lists_only_unnamed_user_groups() {
        let d = directory();
        let got =
            d.unknown(["contactGroups/3a1f", "contactGroups/friends", "contactGroups/new1", "contactGroups/new1"]);
        assert_eq!(got, BTreeSet::from(["contactGroups/new1".to_owned()]));
    }
}
