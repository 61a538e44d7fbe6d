//! [`fields_hash`]: a stable fingerprint of a contact's fields, stored on the provider link as the
//! last-synced snapshot hash so an unchanged contact is recognised without matching it again.
//! FNV-1a 128 over the canonical JSON form: stable across Rust versions and platforms (unlike
//! `std`'s `DefaultHasher`), with no dependency. Not a security hash, only a change detector.

use rolodex_domain::ContactFields;

const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// `fnv1a128:<32 hex digits>` of the fields' JSON form.
#[must_use]
pub fn fields_hash(fields: &ContactFields) -> String {
    let bytes = serde_json::to_vec(fields).unwrap_or_default();
    let mut h = OFFSET;
    for b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("fnv1a128:{h:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fields_hash_equal_and_changes_show() {
        let a = ContactFields { given_name: Some("Jane".into()), ..ContactFields::default() };
        let mut b = a.clone();
        assert_eq!(fields_hash(&a), fields_hash(&b));
        b.job_title = Some("CEO".into());
        assert_ne!(fields_hash(&a), fields_hash(&b));
        assert!(fields_hash(&a).starts_with("fnv1a128:"));
        assert_eq!(fields_hash(&a).len(), "fnv1a128:".len() + 32);
    }
}
