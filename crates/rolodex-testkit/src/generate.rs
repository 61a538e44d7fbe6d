//! A seeded generator of realistic contacts with known duplicates, for benchmarks and quality tests.
//!
//! [`generate`] makes `existing` people (a CRM) and `incoming` raw contacts (a sync or an import), a
//! share of which are noisy variants of an existing person; [`Generated::truth`] lists those pairs.
//! Everything is drawn from a seeded [`StdRng`], so one seed always gives the same output.
//!
//! What makes it realistic:
//! - Names come from built-in lists with a skewed (Zipf-like) distribution, so common names are
//!   common: a few hundred given names, with nickname pairs (Robert/Bob, William/Bill,
//!   Elizabeth/Liz, ...), and a few thousand family names (common real ones, then combinatorial ones
//!   in the tail). Different people share names, as they do in real life.
//! - Emails follow common local-part patterns (`first.last`, `firstlast`, `flast`, `first+tag`,
//!   `first78`) at free-mail or company domains; no two people share an address or a phone number.
//! - Phones are valid Australian mobiles and landlines (national or `+61`, spaced, dashed, dotted)
//!   and US numbers (always with `+1`, so any default region reads them).
//! - Companies (some large, most small), job titles, street addresses with consistent
//!   suburb/state/postcode, birthdays (a quarter missing).
//!
//! A duplicate is the same person written again with noise: a one-character typo (insert, delete,
//! substitute, transpose), a nickname, given and family swapped, a display name `Family, Given`,
//! other case, missing fields, the email in another case, Gmail-folded (dots, `+tag`, googlemail) or
//! replaced by another address, the phone in another format or replaced, a changed company and job,
//! an abbreviated street type or a new address. A duplicate always keeps something that identifies
//! the person (an email, a phone, a birthday or the address) besides a similar name.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rolodex_domain::EmailAddress;
use rolodex_domain::raw::RawContact;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// The seed; the same seed gives the same output.
    pub seed: u64,
    /// How many existing contacts.
    pub existing: usize,
    /// How many incoming contacts.
    pub incoming: usize,
    /// The share of incoming contacts that are variants of an existing one (0.0-1.0).
    pub duplicate_rate: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self { seed: 42, existing: 1_000, incoming: 1_000, duplicate_rate: 0.5 }
    }
}

/// The generated contacts and the truth about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The existing contacts (ids `ex-0`, `ex-1`, ...).
    pub existing: Vec<RawContact>,
    /// The incoming contacts (ids `in-0`, `in-1`, ...).
    pub incoming: Vec<RawContact>,
    /// `(incoming index, existing index)` for every incoming contact that is a variant of an
    /// existing one, in incoming order. Incoming contacts not listed are new people.
    pub truth: Vec<(usize, usize)>,
}

/// Generates `config.existing` existing and `config.incoming` incoming contacts.
#[must_use]
pub fn generate(config: &GeneratorConfig) -> Generated {
    let mut g = Generator::new(config.seed);
    let people: Vec<Person> = (0..config.existing).map(|_| g.person()).collect();
    let existing: Vec<RawContact> =
        people.iter().enumerate().map(|(i, p)| g.render_existing(p, format!("ex-{i}"))).collect();
    let rate = config.duplicate_rate.clamp(0.0, 1.0);
    let mut incoming = Vec::with_capacity(config.incoming);
    let mut truth = Vec::new();
    for i in 0..config.incoming {
        let id = format!("in-{i}");
        if !people.is_empty() && g.rng.random_bool(rate) {
            let j = g.rng.random_range(0..people.len());
            incoming.push(g.render_duplicate(&people[j], id));
            truth.push((i, j));
        } else {
            let p = g.person();
            incoming.push(g.render_incoming(&p, id));
        }
    }
    Generated { existing, incoming, truth }
}

// ---------------------------------------------------------------------------------------------
// Built-in lists
// ---------------------------------------------------------------------------------------------

/// Formal given names with their common nicknames, most common first.
const NICKNAMED: &[(&str, &[&str])] = &[
    ("James", &["Jim", "Jimmy", "Jamie"]),
    ("John", &["Jack", "Johnny"]),
    ("Robert", &["Bob", "Rob", "Bobby"]),
    ("Michael", &["Mike", "Mick"]),
    ("William", &["Bill", "Will", "Billy"]),
    ("David", &["Dave", "Davey"]),
    ("Richard", &["Rick", "Rich", "Dick"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Thomas", &["Tom", "Tommy"]),
    ("Christopher", &["Chris"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Anthony", &["Tony"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Elizabeth", &["Liz", "Beth", "Lizzie", "Betty"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Margaret", &["Maggie", "Meg", "Peggy"]),
    ("Katherine", &["Kate", "Kathy", "Katie"]),
    ("Patricia", &["Pat", "Trish", "Patty"]),
    ("Susan", &["Sue", "Suzy"]),
    ("Deborah", &["Deb", "Debbie"]),
    ("Rebecca", &["Becky", "Bec"]),
    ("Alexander", &["Alex", "Xander"]),
    ("Benjamin", &["Ben", "Benny"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Nicholas", &["Nick", "Nicky"]),
    ("Jonathan", &["Jon", "Jonny"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Charles", &["Charlie", "Chuck"]),
    ("Timothy", &["Tim", "Timmy"]),
    ("Steven", &["Steve"]),
    ("Stephen", &["Steve", "Stevie"]),
    ("Gregory", &["Greg"]),
    ("Jeffrey", &["Jeff"]),
    ("Kenneth", &["Ken", "Kenny"]),
    ("Ronald", &["Ron", "Ronnie"]),
    ("Donald", &["Don", "Donnie"]),
    ("Lawrence", &["Larry", "Laurie"]),
    ("Raymond", &["Ray"]),
    ("Frederick", &["Fred", "Freddie"]),
    ("Theodore", &["Theo", "Ted"]),
    ("Peter", &["Pete"]),
    ("Philip", &["Phil"]),
    ("Douglas", &["Doug"]),
    ("Henry", &["Harry", "Hank"]),
    ("Jacob", &["Jake"]),
    ("Joshua", &["Josh"]),
    ("Zachary", &["Zach", "Zac"]),
    ("Nathaniel", &["Nate", "Nat"]),
    ("Abigail", &["Abby"]),
    ("Amanda", &["Mandy"]),
    ("Cynthia", &["Cindy"]),
    ("Dorothy", &["Dot", "Dottie"]),
    ("Kimberly", &["Kim"]),
    ("Pamela", &["Pam"]),
    ("Alexandra", &["Alex", "Sandra", "Lexi"]),
    ("Christine", &["Chris", "Tina"]),
    ("Jacqueline", &["Jackie"]),
    ("Josephine", &["Jo", "Josie"]),
    ("Eleanor", &["Ellie", "Nell"]),
    ("Frances", &["Fran"]),
    ("Gabrielle", &["Gabby"]),
    ("Madeline", &["Maddie"]),
    ("Natalie", &["Nat"]),
    ("Penelope", &["Penny"]),
    ("Stephanie", &["Steph"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Jessica", &["Jess", "Jessie"]),
    ("Samantha", &["Sam", "Sammy"]),
    ("Catherine", &["Cathy", "Cate"]),
    ("Valerie", &["Val"]),
    ("Vincent", &["Vince", "Vinnie"]),
    ("Walter", &["Walt", "Wally"]),
    ("Bradley", &["Brad"]),
    ("Mitchell", &["Mitch"]),
    ("Gerald", &["Gerry"]),
    ("Harold", &["Harry", "Hal"]),
    ("Joanne", &["Jo"]),
    ("Kristen", &["Kris"]),
    ("Jillian", &["Jill"]),
    ("Cameron", &["Cam"]),
    ("Benedict", &["Ben"]),
    ("Leonard", &["Len", "Leo"]),
    ("Dominic", &["Dom"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Annabelle", &["Annie", "Belle"]),
    ("Gwendolyn", &["Gwen"]),
    ("Suzanne", &["Suzie"]),
    ("Terence", &["Terry"]),
    ("Clifford", &["Cliff"]),
];

/// Given names without a common nickname here, most common first.
#[rustfmt::skip]
const PLAIN_GIVEN: &[&str] = &[
    "Sarah", "Emma", "Olivia", "Jack", "Noah", "Oliver", "Charlotte", "Emily", "Mary", "Lisa", "Karen", "Michelle",
    "Mark", "Paul", "Scott", "Jason", "Luke", "Chloe", "Grace", "Sophie", "Ruby", "Mia", "Ava", "Amelia", "Isla",
    "Ella", "Zoe", "Lily", "Hannah", "Lucy", "Laura", "Anna", "Rachel", "Claire", "Megan", "Lauren", "Kylie",
    "Melissa", "Nicole", "Julie", "Tracey", "Wendy", "Helen", "Fiona", "Heather", "Leanne", "Louise", "Jane", "Anne",
    "Ruth", "Joan", "Carol", "Diane", "Linda", "Barbara", "Sharon", "Angela", "Brenda", "Amy", "Jade", "Tahlia",
    "Maya", "Priya", "Aisha", "Fatima", "Mei", "Yuki", "Sofia", "Lucia", "Chiara", "Ingrid", "Freya", "Harper",
    "Evie", "Matilda", "Sienna", "Leo", "Lucas", "Liam", "Ethan", "Mason", "Hudson", "Archie", "Harrison", "Cooper",
    "Oscar", "Isaac", "Max", "Hunter", "Lachlan", "Riley", "Jayden", "Connor", "Tyler", "Dylan", "Ryan", "Brett",
    "Shane", "Wayne", "Craig", "Darren", "Glenn", "Adam", "Simon", "Gary", "Neil", "Brian", "Kevin", "Dean", "Aaron",
    "Kyle", "Jordan", "Blake", "Mohammed", "Ahmed", "Omar", "Ali", "Raj", "Arjun", "Wei", "Jun", "Hiroshi", "Kenji",
    "Marco", "Luca", "Giovanni", "Carlos", "Diego", "Javier", "Pablo", "Sven", "Lars", "Anh", "Minh", "Thi", "Duc",
    "Hamish", "Angus", "Fergus", "Callum", "Declan", "Liam", "Seamus", "Niamh", "Siobhan", "Aoife", "Bridget",
    "Colleen", "Maeve", "Tessa", "Imogen", "Harriet", "Georgia", "Phoebe", "Poppy", "Willow", "Ivy", "Hazel",
    "Violet", "Stella", "Audrey", "Naomi", "Leah", "Esther", "Miriam", "Tamsin", "Bronwyn", "Rhiannon", "Carys",
    "Dafydd", "Gareth", "Owen", "Evan", "Rhys", "Ivan", "Dmitri", "Sergei", "Olga", "Natasha", "Katya", "Anya",
    "Mateo", "Santiago", "Valentina", "Camila", "Ximena", "Rafael", "Gabriel", "Mariana", "Beatriz", "Joao", "Tiago",
    "Ines", "Pedro", "Hugo", "Jules", "Louis", "Camille", "Manon", "Chloé", "Zoé", "Léa", "Élodie", "Björn", "Søren",
    "Astrid", "Sigrid", "Nils", "Erik", "Anders", "Hans", "Klaus", "Jürgen", "Uwe", "Heike", "Petra", "Ursula",
    "Sanjay", "Anil", "Deepak", "Sunita", "Lakshmi", "Ravi", "Vikram", "Neha", "Pooja", "Ananya", "Rohan", "Hao",
    "Jing", "Li", "Ming", "Xiao", "Yan", "Haruto", "Sakura", "Hana", "Ren", "Sora", "Ji-woo", "Min-jun", "Seo-yeon",
    "Tariq", "Yusuf", "Layla", "Zainab", "Amir", "Nadia", "Leila", "Kofi", "Ama", "Kwame", "Chidi", "Ngozi", "Tane",
    "Aroha", "Manaia", "Kiri", "Wiremu", "Nikau", "Te Aroha", "Mary-Jane", "Anne-Marie", "Jean-Paul", "Bailey",
    "Quinn", "Morgan", "Taylor", "Casey", "Jamie", "Jesse", "Drew", "Kai", "Eli", "Ezra", "Asher", "Felix", "Jasper",
    "Arlo", "Finn", "Toby", "Reuben", "Beau", "Xavier", "Patrick", "Sean", "Shaun", "Aidan", "Brendan", "Kieran",
    "Rory", "Damien", "Troy", "Travis", "Trent", "Clint", "Dale", "Rodney", "Russell", "Stuart", "Graham", "Malcolm",
    "Ian", "Nigel", "Trevor", "Keith", "Colin", "Derek", "Barry", "Terry", "Allan", "Alan", "Allen", "Gail", "Gayle",
    "Lynne", "Lyn", "Dianne", "Joanna", "Johanna", "Kristy", "Kirsty", "Cheryl", "Sheryl",
];

/// Common family names (AU/US/UK mix), most common first.
#[rustfmt::skip]
const COMMON_FAMILY: &[&str] = &[
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson", "Thompson",
    "Nguyen", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly", "King", "Davis", "Wright", "Evans",
    "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips",
    "Mitchell", "Turner", "Campbell", "Moore", "Young", "Allen", "Scott", "Baker", "Adams", "Nelson", "Hill",
    "Carter", "Morris", "Cook", "Murphy", "Edwards", "Stewart", "Morgan", "Cooper", "Reid", "Ward", "Watson",
    "Bennett", "Gray", "Hughes", "Price", "Ross", "Collins", "Bell", "Kennedy", "Russell", "Murray", "Graham", "Hunt",
    "Marshall", "Ellis", "Fraser", "Hamilton", "McDonald", "MacKenzie", "O'Brien", "O'Connor", "O'Neill", "Sullivan",
    "Walsh", "Byrne", "Doyle", "Gallagher", "Quinn", "Brennan", "Fitzgerald", "Burke", "Lynch", "Tran", "Le", "Pham",
    "Huynh", "Vo", "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Kim", "Park", "Choi", "Jung", "Kang", "Singh", "Kumar", "Sharma", "Gupta", "Shah", "Mehta", "Reddy", "Rao",
    "Iyer", "Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez", "Ramirez",
    "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Cruz", "Morales", "Ortiz", "Gutierrez", "Rossi", "Russo",
    "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti",
    "De Luca", "Costa", "Papadopoulos", "Nikolaidis", "Georgiou", "Müller", "Schmidt", "Schneider", "Fischer",
    "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Nowak", "Kowalski", "Wiśniewski", "Novak", "Horvat", "Ivanov", "Petrov", "Smirnov", "Jansen",
    "De Jong", "Van Dijk", "Bakker", "Visser", "Hansen", "Nielsen", "Jensen", "Larsen", "Andersen", "Johansson",
    "Karlsson", "Nilsson", "Eriksson", "Berg", "Dubois", "Moreau", "Laurent", "Lefebvre", "Fontaine", "Silva",
    "Santos", "Oliveira", "Souza", "Pereira", "Ferreira", "Alves", "Tanaka", "Suzuki", "Takahashi", "Watanabe",
    "Yamamoto", "Nakamura", "Kobayashi", "Sato", "Ito", "Hussain", "Ahmed", "Ali", "Rahman", "Hassan", "Ibrahim",
    "Mohamed", "Haddad", "Khoury", "Nasser", "Cohen", "Levy", "Friedman", "Goldberg", "Katz", "Okafor", "Mensah",
    "Ngata", "Parata", "Tipene", "Webb", "Barnes", "Fisher", "Henderson", "Coleman", "Simmons", "Patterson", "Jordan",
    "Reynolds", "Hamilton", "Graham", "Wallace", "Woods", "Cole", "West", "Owens", "Harrison", "Gibson", "McCarthy",
    "McLean", "McGregor", "Sutherland", "Douglas", "Cunningham", "Henry", "Lawrence", "Chapman", "Mason", "Holmes",
    "Knight", "Lloyd", "Butler", "Barker", "Dixon", "Harvey", "Fox", "Pearce", "Mills", "Palmer", "Spencer",
    "Stevens", "Rose", "Burns", "Dunn", "Shaw", "Lane", "Fleming",
];

/// Syllables for the long tail of family names.
#[rustfmt::skip]
const FAMILY_HEADS: &[&str] = &[
    "Ash", "Black", "Brad", "Brook", "Cald", "Cart", "Craw", "Dal", "Ed", "Fair", "Gold", "Hart", "Kings", "Lang",
    "Mar", "Mid", "New", "Oak", "Pem", "Red", "Ross", "Rut", "Stan", "Thorn", "Wal", "West", "Whit", "Win", "Bel",
    "Brent", "Chad", "Dun", "Elling", "Fen", "Glad", "Hale", "Holl", "Kent", "Lock", "Mor", "Nor", "Pen", "Ray",
    "Sel", "Shel", "Tal", "Wen", "Wither", "Hazel", "Birk", "Alder", "Barn", "Bram", "Brigh", "Brom", "Bux",
    "Chester", "Clay", "Cran", "Crom", "Dray", "Eller", "Farn", "Fox", "Gar", "Gil", "Grant", "Ham", "Hay",
    "Hol", "Kim", "Knox", "Lan", "Lin", "Mal", "Mer", "Ogle", "Pad", "Pick", "Quen", "Rad", "Rock", "Sand",
];
#[rustfmt::skip]
const FAMILY_TAILS: &[&str] = &[
    "ford", "ley", "ton", "wood", "field", "well", "by", "combe", "ham", "worth", "more", "dale", "ridge", "stone",
    "brook", "shaw", "wick", "den", "mont", "ing", "bury", "cott", "hurst", "lock", "mere", "row", "sby", "stead",
    "thorpe", "wright",
];
const FAMILY_STEMS: &[&str] =
    &["Kowal", "Lewand", "Zieli", "Szyman", "Wojcie", "Kami", "Dąbrow", "Jablon", "Mazur", "Krawc"];
#[rustfmt::skip]
const FAMILY_STEM_TAILS: &[&str] = &[
    "ski", "czyk", "owski", "iak", "ewicz",
];
#[rustfmt::skip]
const ITALIAN_STEMS: &[&str] = &[
    "Bellin", "Cappell", "Donat", "Fior", "Gentil", "Lombard", "Mancin", "Pellegrin", "Sant", "Vitell", "Zanett",
    "Moret", "Bertol", "Castell", "Ferrar",
];
#[rustfmt::skip]
const ITALIAN_TAILS: &[&str] = &[
    "i", "o", "elli", "etti", "ini", "ucci", "one",
];

#[rustfmt::skip]
const JOB_TITLES: &[&str] = &[
    "Director", "Manager", "Sales Manager", "Account Manager", "Office Manager", "Operations Manager", "Accountant",
    "Senior Accountant", "Engineer", "Software Engineer", "Project Manager", "Consultant", "Senior Consultant",
    "Partner", "Owner", "CEO", "CFO", "COO", "General Manager", "Marketing Manager", "HR Manager", "Recruiter",
    "Analyst", "Business Analyst", "Designer", "Architect", "Solicitor", "Lawyer", "Paralegal", "Nurse",
    "Practice Manager", "Dentist", "Physiotherapist", "Electrician", "Plumber", "Builder", "Estimator",
    "Site Supervisor", "Administrator", "Executive Assistant", "Receptionist", "Teacher", "Principal",
    "Property Manager", "Real Estate Agent", "Broker", "Financial Planner", "Bookkeeper", "Developer",
    "Head of Sales", "VP Engineering", "Customer Success Manager", "Procurement Officer",
];

#[rustfmt::skip]
const COMPANY_WORDS: &[&str] = &[
    "Harbour", "Summit", "Coastal", "Southern", "Pacific", "Northern", "Eastern", "Western", "Metro", "Capital",
    "Bridge", "River", "Gum Tree", "Wattle", "Banksia", "Blue Sky", "Red Earth", "Ironbark", "Silver", "Golden",
    "Apex", "Pinnacle", "Keystone", "Cornerstone", "Evergreen", "Bluewater", "Sandstone", "Granite", "Horizon",
    "Atlas", "Orbit", "Vertex", "Nimbus", "Quantum", "Vector", "Lumen", "Acorn", "Oakridge", "Maple", "Cedar",
    "Willow", "Kestrel", "Falcon", "Pelican", "Koala", "Platypus", "Emu", "Magpie", "Lorikeet", "Kookaburra",
];
#[rustfmt::skip]
const COMPANY_KINDS: &[&str] = &[
    "Consulting", "Holdings", "Group", "Partners", "Logistics", "Legal", "Accounting", "Plumbing", "Electrical",
    "Dental", "Medical Centre", "Realty", "Constructions", "Engineering", "Solutions", "Technologies", "Labs",
    "Studio", "Design", "Foods", "Motors", "Pharmacy", "Bakery", "Finance", "Capital", "Ventures", "Media", "Health",
    "Physio", "Landscaping", "Transport", "Security", "Software", "Analytics", "Architects", "Surveyors",
];
#[rustfmt::skip]
const COMPANY_SUFFIXES_AU: &[&str] = &[
    "Pty Ltd", "Pty. Ltd.", "P/L", "Ltd",
];
#[rustfmt::skip]
const COMPANY_SUFFIXES_US: &[&str] = &[
    "Inc.", "LLC", "Inc", "Corp.",
];

#[rustfmt::skip]
const STREET_NAMES: &[&str] = &[
    "George", "King", "Queen", "Elizabeth", "Victoria", "Albert", "William", "Church", "High", "Station", "Park",
    "Railway", "Main", "Bridge", "Mill", "Market", "Wattle", "Acacia", "Banksia", "Jacaranda", "Gum", "Hill", "Ocean",
    "Beach", "Bay", "Harbour", "River", "Lake", "Forest", "Valley", "Spring", "Oak", "Elm", "Pine", "Cedar", "Maple",
    "Birch", "Willow", "Smith", "Collins", "Bourke", "Flinders", "Swanston", "Elizabeth", "Pitt", "Macquarie",
    "Sussex", "Kent", "Clarence", "Oxford", "Cambridge", "Glebe Point", "Parramatta", "Canterbury", "Victoria",
    "Anzac", "Federation", "Commonwealth", "Darling", "Murray", "Hume", "Sturt", "Eyre", "Flinders", "Cook",
    "Phillip", "Hunter", "Lachlan", "Bligh", "Macarthur", "Wentworth", "Lawson", "Blaxland", "Franklin", "Lincoln",
    "Washington", "Jefferson", "Madison", "Monroe", "Adams", "Jackson", "Grant", "Maple", "Sunset", "Highland",
    "Meadow", "Orchard", "Prospect", "Pleasant", "Ridge", "Cherry", "Walnut", "Chestnut",
];
/// (long form, short form)
const STREET_TYPES: &[(&str, &str)] = &[
    ("Street", "St"),
    ("Road", "Rd"),
    ("Avenue", "Ave"),
    ("Crescent", "Cres"),
    ("Place", "Pl"),
    ("Drive", "Dr"),
    ("Court", "Ct"),
    ("Lane", "Ln"),
    ("Parade", "Pde"),
    ("Terrace", "Tce"),
    ("Close", "Cl"),
    ("Highway", "Hwy"),
    ("Boulevard", "Blvd"),
    ("Way", "Way"),
    ("Circuit", "Cct"),
];

/// AU localities: (suburb, state, postcode).
const AU_PLACES: &[(&str, &str, u16)] = &[
    ("Sydney", "NSW", 2000),
    ("Parramatta", "NSW", 2150),
    ("Bondi", "NSW", 2026),
    ("Newtown", "NSW", 2042),
    ("Chatswood", "NSW", 2067),
    ("Manly", "NSW", 2095),
    ("Penrith", "NSW", 2750),
    ("Newcastle", "NSW", 2300),
    ("Wollongong", "NSW", 2500),
    ("Blacktown", "NSW", 2148),
    ("Liverpool", "NSW", 2170),
    ("Hornsby", "NSW", 2077),
    ("Melbourne", "VIC", 3000),
    ("Richmond", "VIC", 3121),
    ("St Kilda", "VIC", 3182),
    ("Fitzroy", "VIC", 3065),
    ("Geelong", "VIC", 3220),
    ("Ballarat", "VIC", 3350),
    ("Box Hill", "VIC", 3128),
    ("Frankston", "VIC", 3199),
    ("Dandenong", "VIC", 3175),
    ("Brunswick", "VIC", 3056),
    ("Brisbane", "QLD", 4000),
    ("Fortitude Valley", "QLD", 4006),
    ("Southport", "QLD", 4215),
    ("Toowoomba", "QLD", 4350),
    ("Cairns", "QLD", 4870),
    ("Townsville", "QLD", 4810),
    ("Indooroopilly", "QLD", 4068),
    ("Adelaide", "SA", 5000),
    ("Glenelg", "SA", 5045),
    ("Norwood", "SA", 5067),
    ("Perth", "WA", 6000),
    ("Fremantle", "WA", 6160),
    ("Subiaco", "WA", 6008),
    ("Joondalup", "WA", 6027),
    ("Hobart", "TAS", 7000),
    ("Launceston", "TAS", 7250),
    ("Canberra", "ACT", 2601),
    ("Belconnen", "ACT", 2617),
    ("Darwin", "NT", 800),
    ("Palmerston", "NT", 830),
];

/// US places: (city, state, zip, an area code there).
const US_PLACES: &[(&str, &str, u32, u16)] = &[
    ("New York", "NY", 10001, 212),
    ("Brooklyn", "NY", 11201, 718),
    ("Los Angeles", "CA", 90012, 213),
    ("San Francisco", "CA", 94103, 415),
    ("San Diego", "CA", 92101, 619),
    ("San Jose", "CA", 95113, 408),
    ("Chicago", "IL", 60601, 312),
    ("Houston", "TX", 77002, 713),
    ("Austin", "TX", 78701, 512),
    ("Dallas", "TX", 75201, 214),
    ("Phoenix", "AZ", 85004, 602),
    ("Philadelphia", "PA", 19103, 215),
    ("Seattle", "WA", 98101, 206),
    ("Portland", "OR", 97204, 503),
    ("Denver", "CO", 80202, 303),
    ("Boston", "MA", 2108, 617),
    ("Miami", "FL", 33130, 786),
    ("Atlanta", "GA", 30303, 404),
    ("Washington", "DC", 20001, 202),
    ("Minneapolis", "MN", 55401, 612),
    ("Detroit", "MI", 48226, 313),
    ("Nashville", "TN", 37203, 615),
    ("Salt Lake City", "UT", 84101, 801),
    ("Charlotte", "NC", 28202, 704),
];

/// Free-mail domains with weights; `AU` ones are only used by Australians.
const FREE_MAIL: &[(&str, u32, bool)] = &[
    ("gmail.com", 40, false),
    ("outlook.com", 10, false),
    ("hotmail.com", 10, false),
    ("yahoo.com", 8, false),
    ("icloud.com", 6, false),
    ("live.com", 3, false),
    ("protonmail.com", 1, false),
    ("aol.com", 2, false),
    ("bigpond.com", 6, true),
    ("optusnet.com.au", 3, true),
    ("yahoo.com.au", 3, true),
    ("iinet.net.au", 2, true),
];

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

// ---------------------------------------------------------------------------------------------
// The model of a person
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Country {
    Au,
    Us,
}

#[derive(Debug, Clone)]
struct PostalAddress {
    number: u16,
    unit: Option<u16>,
    street: usize,
    street_type: usize,
    place: usize,
}

#[derive(Debug, Clone)]
struct Person {
    country: Country,
    /// Index into the given-name table.
    given: usize,
    /// Index into the family-name pool.
    family: usize,
    email: Option<String>,
    /// The national significant number (AU: 9 digits, US: 10 digits).
    phone: Option<u64>,
    company: Option<usize>,
    job: Option<usize>,
    address: Option<PostalAddress>,
    birthday: Option<(i32, u8, u8)>,
}

struct GivenName {
    formal: &'static str,
    nicknames: &'static [&'static str],
}

struct Company {
    name: String,
    suffix: Option<&'static str>,
    domain: String,
}

/// A set of `u64` (phone numbers, email fingerprints) with a cheap hash: the generator makes
/// millions of them.
type FastSet = HashSet<u64, BuildHasherDefault<MixHasher>>;

/// The splitmix64 finaliser as a hasher of `u64` keys.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        let mut z = (self.0 ^ v).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A 64-bit FNV-1a fingerprint of a string (two different emails sharing one is a 1-in-10^12
/// event at a million emails, and would only add a number to the second).
fn fingerprint(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A skewed choice over `0..n`: weight of index `i` is `1 / (i + offset)`.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, offset: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / (i as f64 + offset);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative.partition_point(|c| *c <= x).min(self.cumulative.len().saturating_sub(1))
    }
}

struct Generator {
    rng: StdRng,
    given: Vec<GivenName>,
    given_zipf: Zipf,
    family: Vec<String>,
    family_zipf: Zipf,
    companies: Vec<Company>,
    company_zipf: Zipf,
    free_mail_total: u32,
    /// Fingerprints of the emails given out.
    used_emails: FastSet,
    used_phones: FastSet,
}

fn family_pool() -> Vec<String> {
    let mut seen = HashSet::new();
    let mut pool = Vec::new();
    let mut add = |name: String, pool: &mut Vec<String>| {
        if seen.insert(name.clone()) {
            pool.push(name);
        }
    };
    for name in COMMON_FAMILY {
        add((*name).to_owned(), &mut pool);
    }
    // The long tail, interleaved so no one style dominates any part of it.
    let english = FAMILY_HEADS.iter().flat_map(|h| FAMILY_TAILS.iter().map(move |t| format!("{h}{t}")));
    let polish = FAMILY_STEMS.iter().flat_map(|h| FAMILY_STEM_TAILS.iter().map(move |t| format!("{h}{t}")));
    let italian = ITALIAN_STEMS.iter().flat_map(|h| ITALIAN_TAILS.iter().map(move |t| format!("{h}{t}")));
    let mut tails: Vec<Box<dyn Iterator<Item = String>>> = vec![Box::new(english), Box::new(polish), Box::new(italian)];
    let mut progressed = true;
    while progressed {
        progressed = false;
        for it in &mut tails {
            if let Some(name) = it.next() {
                add(name, &mut pool);
                progressed = true;
            }
        }
    }
    for prefix in ["Mc", "O'"] {
        for name in COMMON_FAMILY.iter().filter(|n| n.len() <= 6 && !n.contains(['\'', ' '])).take(60) {
            add(format!("{prefix}{name}"), &mut pool);
        }
    }
    pool
}

/// ASCII-only lower case for email local parts (`Müller` -> `muller`).
fn email_part(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'ä' | 'à' | 'á' | 'â' | 'ą' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' => Some('e'),
            'ö' | 'ó' | 'ô' | 'ø' => Some('o'),
            'ü' | 'ú' => Some('u'),
            'ś' => Some('s'),
            'ß' => Some('s'),
            'í' | 'ï' => Some('i'),
            _ => None,
        })
        .collect()
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut given: Vec<GivenName> = Vec::new();
        let mut n = NICKNAMED.iter();
        let mut p = PLAIN_GIVEN.iter();
        // Interleave so that nicknamed names spread over the common and the rare part.
        loop {
            let a = n.next().map(|(formal, nicknames)| GivenName { formal, nicknames });
            let b1 = p.next().map(|formal| GivenName { formal, nicknames: &[] });
            let b2 = p.next().map(|formal| GivenName { formal, nicknames: &[] });
            let done = a.is_none() && b1.is_none();
            given.extend([a, b1, b2].into_iter().flatten());
            if done {
                break;
            }
        }
        let given_zipf = Zipf::new(given.len(), 6.0);
        let family = family_pool();
        let family_zipf = Zipf::new(family.len(), 12.0);
        let mut seen_domains = HashSet::new();
        let companies: Vec<Company> = (0..5_000)
            .map(|_| {
                let word = if rng.random_bool(0.33) {
                    COMMON_FAMILY[rng.random_range(0..COMMON_FAMILY.len())]
                } else {
                    COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())]
                };
                let kind = COMPANY_KINDS[rng.random_range(0..COMPANY_KINDS.len())];
                let au = rng.random_bool(0.7);
                let suffix = if rng.random_bool(0.5) {
                    let list = if au { COMPANY_SUFFIXES_AU } else { COMPANY_SUFFIXES_US };
                    Some(list[rng.random_range(0..list.len())])
                } else {
                    None
                };
                let tld = if au { "com.au" } else { "com" };
                let stem = if rng.random_bool(0.5) {
                    email_part(word)
                } else {
                    format!("{}{}", email_part(word), email_part(kind))
                };
                // Two firms may share a name, never a domain.
                let mut domain = format!("{stem}.{tld}");
                let mut n = 2;
                while !seen_domains.insert(domain.clone()) {
                    domain = format!("{stem}{n}.{tld}");
                    n += 1;
                }
                Company { name: format!("{word} {kind}"), suffix, domain }
            })
            .collect();
        let company_zipf = Zipf::new(companies.len(), 3.0);
        let free_mail_total = FREE_MAIL.iter().map(|(_, w, _)| w).sum();
        Self {
            rng,
            given,
            given_zipf,
            family,
            family_zipf,
            companies,
            company_zipf,
            free_mail_total,
            used_emails: FastSet::default(),
            used_phones: FastSet::default(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn free_mail_domain(&mut self, country: Country) -> &'static str {
        loop {
            let mut x = self.rng.random_range(0..self.free_mail_total);
            for (domain, weight, au_only) in FREE_MAIL {
                if x < *weight {
                    if *au_only && country != Country::Au {
                        break;
                    }
                    return domain;
                }
                x -= weight;
            }
        }
    }

    fn local_part(&mut self, given: &str, family: &str) -> String {
        let (g, f) = (email_part(given), email_part(family));
        let initial = g.chars().next().map(String::from).unwrap_or_default();
        match self.rng.random_range(0..100) {
            0..35 => format!("{g}.{f}"),
            35..50 => format!("{g}{f}"),
            50..60 => format!("{initial}{f}"),
            60..66 => format!("{initial}.{f}"),
            66..72 => format!("{g}_{f}"),
            72..84 => format!("{g}{}", self.rng.random_range(1..100)),
            84..90 => format!("{g}.{f}{}", self.rng.random_range(1..100)),
            90..94 => format!("{f}.{g}"),
            94..97 => format!("{g}{}", self.rng.random_range(1950..2006)),
            _ => g.clone(),
        }
    }

    /// A fresh, unused email for the person.
    fn new_email(&mut self, given: &str, family: &str, company: Option<usize>, country: Country) -> String {
        let work = company.is_some() && self.chance(0.35);
        let domain = match company {
            Some(c) if work => self.companies[c].domain.clone(),
            _ => self.free_mail_domain(country).to_owned(),
        };
        let mut local = self.local_part(given, family);
        if local.is_empty() {
            local = format!("user{}", self.rng.random_range(100..100_000));
        }
        let mut email = format!("{local}@{domain}");
        // Taken: add a number, as people do, longer the more often it is taken.
        let mut limit = 100;
        // Unique by mailbox, not by spelling: `j.doe@gmail.com` and `jdoe@gmail.com` are one inbox.
        let mailbox = |e: &str| EmailAddress::parse(e).map_or_else(|_| e.to_owned(), |a| a.matching_key());
        while !self.used_emails.insert(fingerprint(&mailbox(&email))) {
            email = format!("{local}{}@{domain}", self.rng.random_range(1..limit));
            limit = (limit * 4).min(100_000_000);
        }
        email
    }

    /// A fresh, unused phone number's national significant number.
    fn new_phone(&mut self, country: Country, place: Option<usize>) -> u64 {
        loop {
            let number = match country {
                // 04xx xxx xxx mobiles (prefixes libphonenumber knows), else capital-city landlines.
                Country::Au if self.chance(0.75) => {
                    let second = *self.pick(&[0u64, 1, 2, 3, 6]);
                    400_000_000 + second * 10_000_000 + self.rng.random_range(0..10_000_000)
                }
                Country::Au => {
                    let (area, first) = *self.pick(&[(2u64, 9u64), (2, 8), (3, 9), (3, 8), (7, 3), (8, 8)]);
                    area * 100_000_000 + first * 10_000_000 + self.rng.random_range(0..10_000_000)
                }
                Country::Us => {
                    let area = u64::from(place.map_or_else(|| self.pick(US_PLACES).3, |p| US_PLACES[p].3));
                    let exchange = self.rng.random_range(200..1000);
                    let exchange = if exchange == 555 { 556 } else { exchange };
                    area * 10_000_000 + exchange * 10_000 + self.rng.random_range(0..10_000)
                }
            };
            if self.used_phones.insert(number) {
                return number;
            }
        }
    }

    fn new_address(&mut self, country: Country) -> PostalAddress {
        let place = match country {
            Country::Au => self.rng.random_range(0..AU_PLACES.len()),
            Country::Us => self.rng.random_range(0..US_PLACES.len()),
        };
        PostalAddress {
            number: self.rng.random_range(1..400),
            unit: self.chance(0.15).then(|| self.rng.random_range(1..60)),
            street: self.rng.random_range(0..STREET_NAMES.len()),
            street_type: self.rng.random_range(0..STREET_TYPES.len()),
            place,
        }
    }

    fn person(&mut self) -> Person {
        let country = if self.chance(0.75) { Country::Au } else { Country::Us };
        let given = self.given_zipf.sample(&mut self.rng);
        let family = self.family_zipf.sample(&mut self.rng);
        let company = self.chance(0.7).then(|| self.company_zipf.sample(&mut self.rng));
        let job = company.filter(|_| self.chance(0.7)).map(|_| self.rng.random_range(0..JOB_TITLES.len()));
        let address = self.chance(0.7).then(|| self.new_address(country));
        let given_name = self.given[given].formal;
        let family_name = self.family[family].clone();
        let email = self.chance(0.9).then(|| self.new_email(given_name, &family_name, company, country));
        let place = address.as_ref().map(|a| a.place).filter(|_| country == Country::Us);
        // A contact nearly always has a way to reach them: no email means a phone.
        let phone = (email.is_none() || self.chance(0.8)).then(|| self.new_phone(country, place));
        let birthday = self.chance(0.75).then(|| {
            let year = self.rng.random_range(1940..2006);
            let month = self.rng.random_range(1..=12u8);
            let day = self.rng.random_range(1..=days_in_month(year, month));
            (year, month, day)
        });
        Person { country, given, family, email, phone, company, job, address, birthday }
    }

    // --- rendering -------------------------------------------------------------------------

    fn format_phone(&mut self, country: Country, number: u64) -> String {
        let d = number.to_string();
        match country {
            Country::Au => {
                let d = format!("{number:09}");
                let mobile = d.starts_with('4');
                let (a, b, c) = if mobile { (&d[..3], &d[3..6], &d[6..]) } else { (&d[..1], &d[1..5], &d[5..]) };
                match (mobile, self.rng.random_range(0..8)) {
                    (true, 0) => format!("0{a} {b} {c}"),
                    (true, 1) => format!("0{a}{b}{c}"),
                    (true, 2) => format!("+61 {a} {b} {c}"),
                    (true, 3) => format!("+61{a}{b}{c}"),
                    (true, 4) => format!("0{a}-{b}-{c}"),
                    (true, 5) => format!("0{a}.{b}.{c}"),
                    (true, 6) => format!("+61 (0){a} {b} {c}"),
                    (true, _) => format!("0{a} {b}{c}"),
                    (false, 0 | 1) => format!("(0{a}) {b} {c}"),
                    (false, 2) => format!("0{a} {b} {c}"),
                    (false, 3) => format!("0{a}{b}{c}"),
                    (false, 4) => format!("+61 {a} {b} {c}"),
                    (false, 5) => format!("+61{a}{b}{c}"),
                    (false, 6) => format!("0{a}-{b}-{c}"),
                    (false, _) => format!("0{a}.{b}.{c}"),
                }
            }
            Country::Us => {
                let (a, b, c) = (&d[..3], &d[3..6], &d[6..]);
                match self.rng.random_range(0..6) {
                    0 => format!("+1 ({a}) {b}-{c}"),
                    1 => format!("+1 {a} {b} {c}"),
                    2 => format!("+1{a}{b}{c}"),
                    3 => format!("+1-{a}-{b}-{c}"),
                    4 => format!("+1.{a}.{b}.{c}"),
                    _ => format!("+1 {a}-{b}-{c}"),
                }
            }
        }
    }

    fn format_birthday(&mut self, (y, m, d): (i32, u8, u8), compact_ok: bool) -> String {
        if compact_ok && self.chance(0.3) {
            if self.chance(0.5) { format!("{y:04}{m:02}{d:02}") } else { format!("{y:04}/{m:02}/{d:02}") }
        } else {
            format!("{y:04}-{m:02}-{d:02}")
        }
    }

    fn company_name(&mut self, company: usize, with_suffix: Option<bool>) -> String {
        let c = &self.companies[company];
        let show = with_suffix.unwrap_or(true);
        match c.suffix {
            Some(s) if show => format!("{} {s}", c.name),
            _ => c.name.clone(),
        }
    }

    fn street_line(&self, a: &PostalAddress, short_type: bool) -> String {
        let (long, short) = STREET_TYPES[a.street_type];
        let kind = if short_type { short } else { long };
        format!("{} {} {kind}", a.number, STREET_NAMES[a.street])
    }

    fn put_address(&mut self, raw: &mut RawContact, country: Country, a: &PostalAddress, short_type: bool) {
        let street = self.street_line(a, short_type);
        match a.unit {
            Some(unit) if self.chance(0.5) => raw.street = Some(format!("{unit}/{street}")),
            Some(unit) => {
                raw.street = Some(street);
                raw.street2 = Some(format!("{} {unit}", self.pick(&["Unit", "Apt", "Suite", "Level"])));
            }
            None => raw.street = Some(street),
        }
        match country {
            Country::Au => {
                let (city, state, postcode) = AU_PLACES[a.place];
                raw.city = Some(city.to_owned());
                raw.state = Some(state.to_owned());
                raw.postcode = Some(format!("{postcode:04}"));
                raw.country = match self.rng.random_range(0..10) {
                    0..3 => Some("Australia".to_owned()),
                    3 => Some("AU".to_owned()),
                    _ => None,
                };
            }
            Country::Us => {
                let (city, state, zip, _) = US_PLACES[a.place];
                raw.city = Some(city.to_owned());
                raw.state = Some(state.to_owned());
                raw.postcode = Some(format!("{zip:05}"));
                raw.country = match self.rng.random_range(0..10) {
                    0..3 => Some("USA".to_owned()),
                    3..5 => Some("United States".to_owned()),
                    5 => Some("US".to_owned()),
                    _ => None,
                };
            }
        }
    }

    /// A clean record, as a CRM holds it.
    fn render_existing(&mut self, p: &Person, id: String) -> RawContact {
        let given = self.given[p.given].formal.to_owned();
        let family = self.family[p.family].clone();
        let mut raw = RawContact { id: Some(id), ..RawContact::default() };
        if self.chance(0.4) {
            raw.name = Some(format!("{given} {family}"));
        }
        raw.given_name = Some(given);
        raw.family_name = Some(family);
        raw.emails.extend(p.email.clone());
        if let Some(n) = p.phone {
            let phone = self.format_phone(p.country, n);
            raw.phones.push((phone, Some("mobile".to_owned()).filter(|_| is_mobile(p.country, n))));
        }
        if let Some(c) = p.company {
            raw.company = Some(self.company_name(c, None));
        }
        raw.job_title = p.job.map(|j| JOB_TITLES[j].to_owned());
        if let Some(a) = &p.address {
            self.put_address(&mut raw, p.country, a, false);
        }
        raw.birthday = p.birthday.map(|b| self.format_birthday(b, false));
        raw
    }

    /// A new person as a source delivers it: same information, source-style formatting.
    fn render_incoming(&mut self, p: &Person, id: String) -> RawContact {
        let mut raw = self.render_existing(p, id);
        if self.chance(0.2) {
            raw.name = Some(format!(
                "{} {}",
                raw.given_name.take().unwrap_or_default(),
                raw.family_name.take().unwrap_or_default()
            ));
        }
        raw.birthday = p.birthday.map(|b| self.format_birthday(b, true));
        raw
    }

    /// The same person written again, with noise.
    fn render_duplicate(&mut self, p: &Person, id: String) -> RawContact {
        let mut raw = RawContact { id: Some(id), ..RawContact::default() };
        let (formal, nicknames) = (self.given[p.given].formal, self.given[p.given].nicknames);
        let mut given = formal.to_owned();
        if !nicknames.is_empty() && self.chance(0.2) {
            given = nicknames[self.rng.random_range(0..nicknames.len())].to_owned();
        }
        let mut family = self.family[p.family].clone();
        if self.chance(0.12) {
            given = self.typo(&given);
        }
        if self.chance(0.12) {
            family = self.typo(&family);
        }
        match self.rng.random_range(0..100) {
            0..6 => (given, family) = (family, given),
            6..10 => (given, family) = (given.to_uppercase(), family.to_uppercase()),
            10..14 => (given, family) = (given.to_lowercase(), family.to_lowercase()),
            _ => {}
        }
        match self.rng.random_range(0..100) {
            0..12 => raw.name = Some(format!("{family}, {given}")),
            12..30 => raw.name = Some(format!("{given} {family}")),
            30..36 => {
                raw.name = Some(format!("{given} {family}"));
                raw.given_name = Some(given);
                raw.family_name = Some(family);
            }
            36..39 => raw.given_name = Some(given),
            _ => {
                raw.given_name = Some(given);
                raw.family_name = Some(family);
            }
        }

        let mut identified = false;
        if let Some(email) = &p.email {
            match self.rng.random_range(0..100) {
                0..50 => {
                    raw.emails.push(if self.chance(0.15) { mixed_case(email) } else { email.clone() });
                    identified = true;
                }
                50..62 => {
                    raw.emails.push(self.gmail_variant(email));
                    identified = true;
                }
                62..78 => {
                    let formal = self.given[p.given].formal;
                    let fam = self.family[p.family].clone();
                    raw.emails.push(self.new_email(formal, &fam, p.company, p.country));
                }
                _ => {}
            }
        }
        if let Some(n) = p.phone {
            match self.rng.random_range(0..100) {
                0..70 => {
                    let phone = self.format_phone(p.country, n);
                    raw.phones.push((phone, None));
                    identified = true;
                }
                70..78 => {
                    let other = self.new_phone(p.country, None);
                    let phone = self.format_phone(p.country, other);
                    raw.phones.push((phone, None));
                }
                _ => {}
            }
        }
        match (p.company, self.rng.random_range(0..100)) {
            (Some(c), 0..60) => {
                let suffix = Some(self.chance(0.5));
                raw.company = Some(self.company_name(c, suffix));
                identified |= p.email.is_none() && p.phone.is_none();
                if p.job.is_some() && self.chance(0.7) {
                    raw.job_title = p.job.map(|j| JOB_TITLES[j].to_owned());
                }
            }
            (_, 60..75) => {
                let c = self.company_zipf.sample(&mut self.rng);
                raw.company = Some(self.company_name(c, None));
                raw.job_title = Some((*self.pick(JOB_TITLES)).to_owned());
            }
            _ => {}
        }
        if let Some(a) = &p.address {
            match self.rng.random_range(0..100) {
                0..50 => {
                    let short = self.chance(0.5);
                    self.put_address(&mut raw, p.country, a, short);
                    identified = true;
                }
                50..60 => {
                    let moved = self.new_address(p.country);
                    self.put_address(&mut raw, p.country, &moved, false);
                }
                _ => {}
            }
        }
        if let Some(b) = p.birthday
            && self.chance(0.6)
        {
            let b = if self.chance(0.05) { birthday_typo(b) } else { b };
            raw.birthday = Some(self.format_birthday(b, true));
            identified = true;
        }
        if !identified {
            // Keep something that identifies the person besides a similar name.
            if let Some(email) = &p.email {
                raw.emails.insert(0, email.clone());
            } else if let Some(n) = p.phone {
                let phone = self.format_phone(p.country, n);
                raw.phones.insert(0, (phone, None));
            } else if let Some(b) = p.birthday {
                raw.birthday = Some(self.format_birthday(b, true));
            } else if let Some(a) = &p.address {
                self.put_address(&mut raw, p.country, a, false);
            } else if let Some(c) = p.company {
                raw.company = Some(self.company_name(c, None));
            }
        }
        raw
    }

    /// One keyboard slip: insert, delete, substitute or transpose a character.
    fn typo(&mut self, s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.len() < 3 {
            return s.to_owned();
        }
        // Rarely the first letter: people notice those.
        let i = self.rng.random_range(1..chars.len());
        let letter = char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]);
        match self.rng.random_range(0..4) {
            0 => chars.insert(i, letter),
            1 => {
                chars.remove(i);
            }
            2 => {
                if chars[i] == letter {
                    chars[i] = if letter == 'e' { 'a' } else { 'e' };
                } else {
                    chars[i] = letter;
                }
            }
            _ => {
                let j = if i + 1 < chars.len() { i + 1 } else { i - 1 };
                if chars[i] == chars[j] {
                    chars.remove(i);
                } else {
                    chars.swap(i, j);
                }
            }
        }
        chars.into_iter().collect()
    }

    /// The same Gmail mailbox written differently (dots, `+tag`, googlemail.com); other domains
    /// get a different case instead.
    fn gmail_variant(&mut self, email: &str) -> String {
        let Some((local, domain)) = email.split_once('@') else { return email.to_owned() };
        if domain != "gmail.com" {
            return mixed_case(email);
        }
        let bare: String = local.chars().filter(|c| *c != '.').collect();
        let mut variant = match self.rng.random_range(0..3) {
            0 => bare.clone(),
            1 => {
                let at = self.rng.random_range(1..bare.len().max(2));
                let at = at.min(bare.len());
                format!("{}.{}", &bare[..at], &bare[at..])
            }
            _ => local.to_owned(),
        };
        if variant == local || self.chance(0.4) {
            let tag = *self.pick(&["news", "work", "shop", "crm", "2024"]);
            variant = format!("{variant}+{tag}");
        }
        let domain = if self.chance(0.2) { "googlemail.com" } else { "gmail.com" };
        format!("{variant}@{domain}")
    }
}

fn is_mobile(country: Country, number: u64) -> bool {
    country == Country::Au && (400_000_000..500_000_000).contains(&number)
}

fn mixed_case(email: &str) -> String {
    let mut upper_next = true;
    email
        .chars()
        .map(|c| {
            let out = if upper_next { c.to_ascii_uppercase() } else { c };
            upper_next = matches!(c, '.' | '@' | '_');
            out
        })
        .collect()
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A plausible slip in a date: day and month swapped when both fit, else the day off by one.
fn birthday_typo((y, m, d): (i32, u8, u8)) -> (i32, u8, u8) {
    if d <= 12 && d != m {
        (y, d, m)
    } else if d > 1 {
        (y, m, d - 1)
    } else {
        (y, m, d + 1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rolodex_domain::phone::Region;

    use super::*;

    fn config(seed: u64) -> GeneratorConfig {
        GeneratorConfig { seed, existing: 2_000, incoming: 1_000, duplicate_rate: 0.5 }
    }

    #[test]
    fn same_seed_same_output_and_different_seed_different_output() {
        let a = generate(&config(7));
        let b = generate(&config(7));
        assert_eq!(a, b);
        let c = generate(&config(8));
        assert_ne!(a.incoming, c.incoming);
    }

    #[test]
    fn sizes_and_truth_indices_are_valid() {
        let g = generate(&config(1));
        assert_eq!(g.existing.len(), 2_000);
        assert_eq!(g.incoming.len(), 1_000);
        assert!(g.truth.windows(2).all(|w| w[0].0 < w[1].0), "one entry per incoming, in order");
        assert!(g.truth.iter().all(|&(i, e)| i < g.incoming.len() && e < g.existing.len()));
        let share = g.truth.len() as f64 / 1_000.0;
        assert!((0.44..0.56).contains(&share), "duplicate share {share}");
        assert!(generate(&GeneratorConfig { duplicate_rate: 0.0, ..config(1) }).truth.is_empty());
        assert_eq!(generate(&GeneratorConfig { duplicate_rate: 1.0, ..config(1) }).truth.len(), 1_000);
        let empty = generate(&GeneratorConfig { existing: 0, ..config(1) });
        assert!(empty.truth.is_empty() && empty.incoming.len() == 1_000);
    }

    #[test]
    fn everything_parses_and_identities_are_unique() {
        let g = generate(&GeneratorConfig { existing: 2_000, incoming: 500, ..config(3) });
        let au = Region::parse("AU").unwrap();
        let mut emails = HashSet::new();
        let mut phones = HashSet::new();
        // Existing people and incoming new people (not variants of an existing one) never share a
        // mailbox or a phone.
        let variants: HashSet<usize> = g.truth.iter().map(|(i, _)| *i).collect();
        let new_people = g.incoming.iter().enumerate().filter(|(i, _)| !variants.contains(i)).map(|(_, r)| r);
        for raw in g.existing.iter().chain(new_people) {
            let inc = raw.clone().into_incoming(au);
            assert!(inc.warnings.is_empty(), "{raw:?}: {:?}", inc.warnings);
            for e in &inc.fields.emails {
                assert!(emails.insert(e.matching_key()), "mailbox shared by two people: {e}");
            }
            for p in &inc.fields.phones {
                assert!(phones.insert(p.number.e164().to_owned()), "phone shared: {}", p.number.e164());
            }
        }
        let warnings: usize = g.incoming.iter().map(|r| r.clone().into_incoming(au).warnings.len()).sum();
        assert_eq!(warnings, 0, "incoming values all parse");
    }

    #[test]
    fn names_are_skewed_and_duplicates_are_noisy_but_identifiable() {
        let g = generate(&GeneratorConfig { existing: 20_000, incoming: 2_000, ..config(5) });
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for raw in &g.existing {
            *counts.entry(raw.family_name.as_deref().unwrap()).or_default() += 1;
        }
        let mut by_count: Vec<usize> = counts.values().copied().collect();
        by_count.sort_unstable_by(|a, b| b.cmp(a));
        assert!(counts.len() > 1_000, "a long tail of family names: {}", counts.len());
        assert!(by_count[0] > 20 * by_count[by_count.len() / 2], "common names are common: {:?}", &by_count[..5]);

        let mut exact_name = 0;
        for &(i, e) in &g.truth {
            let (inc, ex) = (&g.incoming[i], &g.existing[e]);
            if inc.given_name == ex.given_name && inc.family_name == ex.family_name {
                exact_name += 1;
            }
            let shares = |a: &RawContact, b: &RawContact| {
                let fold = |s: &str| s.to_lowercase().replace('.', "").replace("googlemail", "gmail");
                let strip_tag = |s: String| match s.split_once('+') {
                    Some((l, rest)) => format!("{l}@{}", rest.split_once('@').map_or("", |r| r.1)),
                    None => s,
                };
                let email = a.emails.iter().any(|x| b.emails.iter().any(|y| strip_tag(fold(x)) == strip_tag(fold(y))));
                let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
                let tail = |s: &str| digits(s).chars().rev().take(8).collect::<String>();
                let phone = a.phones.iter().any(|x| b.phones.iter().any(|y| tail(&x.0) == tail(&y.0)));
                let place = a.postcode.is_some() && a.postcode == b.postcode;
                let born = a.birthday.is_some() && b.birthday.is_some();
                let firm = match (&a.company, &b.company) {
                    (Some(x), Some(y)) => x.starts_with(y.as_str()) || y.starts_with(x.as_str()),
                    _ => false,
                };
                email || phone || place || born || firm
            };
            assert!(shares(inc, ex), "duplicate without an identifying field:\n{inc:?}\n{ex:?}");
        }
        let share_exact = f64::from(exact_name) / g.truth.len() as f64;
        assert!((0.2..0.85).contains(&share_exact), "names are noisy in a share of duplicates: {share_exact}");
    }
}
