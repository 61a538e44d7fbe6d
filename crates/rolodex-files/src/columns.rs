//! Which CSV column feeds which contact field: the [`Field`]s, the recognition of common column
//! spellings ([`recognise`]), the user's `--map` overrides ([`ColumnMap`]) and the outcome of both
//! for one file's header ([`ResolvedColumns`]). Reading rows is [`crate::csv`]'s job.

use std::fmt;

use crate::error::FileError;

/// A contact field a column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The record's id in the file.
    Id,
    /// A full display name.
    Name,
    /// Given (first) name.
    GivenName,
    /// Family (last) name.
    FamilyName,
    /// Email address (several columns may feed it; the first is primary).
    Email,
    /// Phone number (several columns may feed it; the first is primary).
    Phone,
    /// Company / organisation.
    Company,
    /// Street line.
    Street,
    /// Second street line.
    Street2,
    /// City, suburb, town or locality.
    City,
    /// State, province or region.
    State,
    /// Postal code.
    Postcode,
    /// Country.
    Country,
    /// Birthday (`YYYY-MM-DD`, `YYYYMMDD`, ...; parsed later by the domain).
    Birthday,
    /// Job title.
    JobTitle,
    /// Tags (a cell may hold several, separated by `,`, `;` or `|`).
    Tags,
}

impl Field {
    /// Every field, in the order `--help` lists them.
    pub const ALL: [Field; 16] = [
        Field::Id,
        Field::Name,
        Field::GivenName,
        Field::FamilyName,
        Field::Email,
        Field::Phone,
        Field::Company,
        Field::Street,
        Field::Street2,
        Field::City,
        Field::State,
        Field::Postcode,
        Field::Country,
        Field::Birthday,
        Field::JobTitle,
        Field::Tags,
    ];

    /// The field's name as `--map` spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Company => "company",
            Field::Street => "street",
            Field::Street2 => "street2",
            Field::City => "city",
            Field::State => "state",
            Field::Postcode => "postcode",
            Field::Country => "country",
            Field::Birthday => "birthday",
            Field::JobTitle => "job_title",
            Field::Tags => "tags",
        }
    }

    /// Every field name, for error messages and help.
    #[must_use]
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|f| f.as_str()).collect()
    }

    /// Reads a field name as `--map` spells it, ignoring case, spaces, dashes and underscores
    /// (`given_name`, `GivenName`, `given-name`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Field> {
        let key = normalise(name);
        Self::ALL.into_iter().find(|f| normalise(f.as_str()) == key)
    }

    /// True for the fields that take every column that feeds them as a separate value.
    #[must_use]
    pub fn is_multi_valued(self) -> bool {
        matches!(self, Field::Email | Field::Phone | Field::Tags)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lower case with spaces, dashes, underscores and dots removed: `E-Mail Address` -> `emailaddress`.
#[must_use]
pub fn normalise(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a column header is recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognised {
    /// The field it feeds.
    pub field: Field,
    /// For phone columns, the kind its name implies (`mobile`, `work`, `home`, `fax`).
    pub phone_label: Option<&'static str>,
    /// True for a street-number column, which goes in front of the street.
    pub street_number: bool,
}

const fn rec(field: Field) -> Option<Recognised> {
    Some(Recognised { field, phone_label: None, street_number: false })
}

const fn phone(label: &'static str) -> Option<Recognised> {
    Some(Recognised { field: Field::Phone, phone_label: Some(label), street_number: false })
}

/// Recognises a column header by its common spellings, ignoring case, spaces, dashes, underscores
/// and dots. Email and phone columns may carry a number (`email2`, `phone_3`).
#[must_use]
pub fn recognise(header: &str) -> Option<Recognised> {
    let key = normalise(header);
    recognise_key(&key).or_else(|| {
        let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() == key.len() || stem.is_empty() {
            return None;
        }
        recognise_key(stem).filter(|r| matches!(r.field, Field::Email | Field::Phone))
    })
}

fn recognise_key(key: &str) -> Option<Recognised> {
    match key {
        "id" | "recid" | "recordid" | "contactid" | "uid" | "uuid" | "externalid" | "personid" => rec(Field::Id),
        "name" | "fullname" | "displayname" | "contactname" | "personname" => rec(Field::Name),
        "givenname" | "firstname" | "first" | "given" | "fname" | "forename" | "forenames" | "christianname" => {
            rec(Field::GivenName)
        }
        "familyname" | "lastname" | "last" | "surname" | "family" | "lname" | "sname" => rec(Field::FamilyName),
        "email" | "emailaddress" | "mail" | "emailaddr" | "emails" | "primaryemail" | "workemail" | "homeemail"
        | "personalemail" | "businessemail" | "otheremail" | "emailwork" | "emailhome" => rec(Field::Email),
        "phone" | "phonenumber" | "phoneno" | "telephone" | "telephonenumber" | "tel" | "primaryphone"
        | "contactnumber" | "phones" | "otherphone" => rec(Field::Phone),
        "mobile" | "mobilephone" | "mobilenumber" | "mobileno" | "cell" | "cellphone" | "cellular" | "cellnumber"
        | "phonemobile" | "phonecell" | "mobilephonenumber" => phone("mobile"),
        "workphone"
        | "businessphone"
        | "officephone"
        | "phonework"
        | "phonebusiness"
        | "worknumber"
        | "workphonenumber"
        | "businessphonenumber"
        | "companyphone"
        | "phoneoffice" => phone("work"),
        "homephone" | "phonehome" | "homenumber" | "homephonenumber" | "landline" => phone("home"),
        "fax" | "faxnumber" | "businessfax" | "homefax" | "workfax" => phone("fax"),
        "company" | "companyname" | "organisation" | "organization" | "org" | "organisationname"
        | "organizationname" | "employer" | "businessname" | "accountname" => rec(Field::Company),
        "jobtitle" | "position" | "occupation" | "jobposition" | "designation" => rec(Field::JobTitle),
        "street" | "address" | "address1" | "addressline1" | "streetaddress" | "street1" | "addr" | "addr1"
        | "streetline1" | "addressstreet" | "streetname" => rec(Field::Street),
        "streetnumber" | "streetno" | "streetnum" | "housenumber" | "houseno" => {
            Some(Recognised { field: Field::Street, phone_label: None, street_number: true })
        }
        "street2" | "address2" | "addressline2" | "streetline2" | "addr2" | "streetaddress2" => rec(Field::Street2),
        "city" | "town" | "suburb" | "locality" | "townorcity" | "citytown" | "towncity" => rec(Field::City),
        "state" | "province" | "region" | "stateprovince" | "stateorprovince" | "territory" | "statecode" => {
            rec(Field::State)
        }
        "postcode" | "zip" | "zipcode" | "postalcode" | "postcodezip" | "zippostalcode" | "postal" | "pincode" => {
            rec(Field::Postcode)
        }
        "country" | "countrycode" | "countryname" | "nation" | "countryregion" => rec(Field::Country),
        "birthday" | "dob" | "dateofbirth" | "birthdate" | "bday" | "born" => rec(Field::Birthday),
        "tags" | "tag" | "labels" | "categories" => rec(Field::Tags),
        _ => None,
    }
}

/// The user's overrides from `--map F=COL[+COL],...`: field `F` takes column `COL`; `+` joins
/// several columns with a space (`street=street_number+address_1`). For email, phone and tags each
/// column is a separate value instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    entries: Vec<(Field, Vec<String>)>,
}

impl ColumnMap {
    /// No overrides.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses `F=COL[+COL],...`. Blank entries are ignored; spaces around names are trimmed.
    ///
    /// # Errors
    /// [`FileError::UnknownField`] listing the valid fields; [`FileError::BadMap`] for an entry
    /// without `=`, an empty column name, or a field given twice.
    pub fn parse(spec: &str) -> Result<ColumnMap, FileError> {
        let mut map = ColumnMap::empty();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((field, columns)) = entry.split_once('=') else {
                return Err(FileError::BadMap(format!("`{entry}` is not FIELD=COLUMN[+COLUMN]")));
            };
            let field_name = field.trim();
            let field = Field::parse(field_name)
                .ok_or_else(|| FileError::UnknownField { field: field_name.to_owned(), valid: Field::names() })?;
            let columns: Vec<String> = columns.split('+').map(|c| c.trim().to_owned()).collect();
            if columns.iter().any(String::is_empty) {
                return Err(FileError::BadMap(format!("`{entry}`: empty column name")));
            }
            if map.get(field).is_some() {
                return Err(FileError::BadMap(format!(
                    "field `{field}` is given twice; join several columns with `+` instead"
                )));
            }
            map.entries.push((field, columns));
        }
        Ok(map)
    }

    /// Sets (or replaces) the columns of one field.
    pub fn set(&mut self, field: Field, columns: Vec<String>) {
        match self.entries.iter_mut().find(|(f, _)| *f == field) {
            Some((_, cols)) => *cols = columns,
            None => self.entries.push((field, columns)),
        }
    }

    /// The columns given for `field`, if any.
    #[must_use]
    pub fn get(&self, field: Field) -> Option<&[String]> {
        self.entries.iter().find(|(f, _)| *f == field).map(|(_, c)| c.as_slice())
    }

    /// Every override, in the order given.
    #[must_use]
    pub fn entries(&self) -> &[(Field, Vec<String>)] {
        &self.entries
    }

    /// True when there are no overrides.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One column feeding a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSource {
    /// The column's 0-based index.
    pub index: usize,
    /// For phones, the label the column's name implies (`mobile`, `work`, `home`, `fax`).
    pub phone_label: Option<&'static str>,
}

/// For one file: which columns feed which field, and which are kept as custom properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedColumns {
    headers: Vec<String>,
    fields: Vec<(Field, Vec<ColumnSource>)>,
    custom: Vec<usize>,
}

impl ResolvedColumns {
    /// Resolves a header row: `map` first, then recognition of the remaining columns. A column the
    /// map names feeds only the mapped field. Of several columns recognised as the same single-valued
    /// field the first wins and the others are kept as custom properties.
    ///
    /// # Errors
    /// [`FileError::MissingColumn`] when the map names a column the header lacks.
    pub fn resolve(headers: Vec<String>, map: &ColumnMap) -> Result<Self, FileError> {
        let mut fields: Vec<(Field, Vec<ColumnSource>)> = Vec::new();
        let mut mapped = vec![false; headers.len()];
        for (field, columns) in map.entries() {
            let mut sources = Vec::with_capacity(columns.len());
            for column in columns {
                let index = find_column(&headers, column).ok_or_else(|| FileError::MissingColumn {
                    field: field.as_str().to_owned(),
                    column: column.clone(),
                    available: headers.clone(),
                })?;
                mapped[index] = true;
                let phone_label =
                    if *field == Field::Phone { recognise(&headers[index]).and_then(|r| r.phone_label) } else { None };
                sources.push(ColumnSource { index, phone_label });
            }
            fields.push((*field, sources));
        }
        let mut auto: Vec<(Field, Vec<ColumnSource>)> = Vec::new();
        let mut street_numbers: Vec<ColumnSource> = Vec::new();
        let mut custom = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            if mapped[index] {
                continue;
            }
            let Some(r) = recognise(header).filter(|r| map.get(r.field).is_none()) else {
                custom.push(index);
                continue;
            };
            let source = ColumnSource { index, phone_label: r.phone_label };
            if r.street_number {
                if street_numbers.is_empty() {
                    street_numbers.push(source);
                } else {
                    custom.push(index);
                }
                continue;
            }
            match auto.iter_mut().find(|(f, _)| *f == r.field) {
                Some((f, sources)) if f.is_multi_valued() => sources.push(source),
                Some(_) => custom.push(index),
                None => auto.push((r.field, vec![source])),
            }
        }
        if !street_numbers.is_empty() {
            match auto.iter_mut().find(|(f, _)| *f == Field::Street) {
                Some((_, sources)) => {
                    sources.splice(0..0, street_numbers);
                }
                None => auto.push((Field::Street, street_numbers)),
            }
        }
        fields.extend(auto);
        fields.sort_by_key(|(f, _)| Field::ALL.iter().position(|a| a == f));
        custom.sort_unstable();
        Ok(Self { headers, fields, custom })
    }

    /// The file's column headers, in order.
    #[must_use]
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The columns feeding `field`, in order (empty when none does).
    #[must_use]
    pub fn sources(&self, field: Field) -> &[ColumnSource] {
        self.fields.iter().find(|(f, _)| *f == field).map_or(&[], |(_, s)| s.as_slice())
    }

    /// The names of the columns feeding `field`.
    #[must_use]
    pub fn columns_for(&self, field: Field) -> Vec<&str> {
        self.sources(field).iter().map(|s| self.headers[s.index].as_str()).collect()
    }

    /// Every field that has a column, with its columns, in [`Field::ALL`] order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &[ColumnSource])> {
        self.fields.iter().map(|(f, s)| (*f, s.as_slice()))
    }

    /// The indices of the columns kept as custom properties.
    #[must_use]
    pub fn custom_indices(&self) -> &[usize] {
        &self.custom
    }

    /// The names of the columns kept as custom properties.
    #[must_use]
    pub fn custom_columns(&self) -> Vec<&str> {
        self.custom.iter().map(|i| self.headers[*i].as_str()).collect()
    }

    /// True when no column feeds `id`: each record's id is then its 1-based data row number.
    #[must_use]
    pub fn id_is_row_number(&self) -> bool {
        self.sources(Field::Id).is_empty()
    }
}

impl fmt::Display for ResolvedColumns {
    /// One line per field: `street <- street_number + address_1`, then the custom columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.id_is_row_number() {
            writeln!(f, "{:<12} <- (row number)", "id")?;
        }
        for (field, sources) in &self.fields {
            let sep = if field.is_multi_valued() { ", " } else { " + " };
            let cols: Vec<String> = sources
                .iter()
                .map(|s| match s.phone_label {
                    Some(label) => format!("{} ({label})", self.headers[s.index]),
                    None => self.headers[s.index].clone(),
                })
                .collect();
            writeln!(f, "{:<12} <- {}", field.as_str(), cols.join(sep))?;
        }
        if !self.custom.is_empty() {
            writeln!(f, "{:<12} <- {}", "custom", self.custom_columns().join(", "))?;
        }
        Ok(())
    }
}

/// The header a `--map` column names: exactly, else ignoring case, spaces, dashes and underscores.
fn find_column(headers: &[String], column: &str) -> Option<usize> {
    headers.iter().position(|h| h == column).or_else(|| {
        let key = normalise(column);
        headers.iter().position(|h| normalise(h) == key)
    })
}
