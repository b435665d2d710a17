//! The word lists the row builders draw from: names with accents, CJK,
//! Cyrillic, Greek and apostrophes, brands, items, descriptions.

pub(super) const BCRYPT_ALPHABET: &[u8; 64] =
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// First names with an ASCII slug for e-mail addresses.
pub(super) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "anna"),
    ("Lukas", "lukas"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Ben", "ben"),
    ("Léa", "lea"),
    ("Søren", "soren"),
    ("Sofia", "sofia"),
    ("Jonas", "jonas"),
    ("Łukasz", "lukasz"),
    ("Chloé", "chloe"),
    ("Björn", "bjorn"),
    ("Hannah", "hannah"),
    ("Elias", "elias"),
    ("François", "francois"),
    ("Siobhán", "siobhan"),
    ("Priya", "priya"),
    ("Mohammed", "mohammed"),
    ("Fatma", "fatma"),
    ("Jürgen", "juergen"),
    ("Ngozi", "ngozi"),
    ("Иван", "ivan"),
    ("Αλέξανδρος", "alexandros"),
    ("翔太", "shota"),
    ("美咲", "misaki"),
    ("Chloë-Anne", "chloeanne"),
    ("D'Arcy", "darcy"),
];

pub(super) const LAST_NAMES: &[(&str, &str)] = &[
    ("Müller", "mueller"),
    ("Schmidt", "schmidt"),
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Fischer", "fischer"),
    ("Weber", "weber"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Jansen", "jansen"),
    ("Kowalski", "kowalski"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Østergaard", "ostergaard"),
    ("Schäfer", "schaefer"),
    ("Novák", "novak"),
    ("Yılmaz", "yilmaz"),
    ("van der Berg", "vanderberg"),
    ("D'Angelo", "dangelo"),
    ("Papadopoulos", "papadopoulos"),
    ("Okafor", "okafor"),
    ("Kim", "kim"),
    ("佐藤", "sato"),
    ("李", "li"),
    ("Ødegård", "odegard"),
    ("Кузнецова", "kuznetsova"),
];

pub(super) const BRANDS: &[(&str, &[&str])] = &[
    (
        "Cube",
        &["Kathmandu Hybrid", "Nuroad", "Aim SL", "Stereo 140"],
    ),
    ("Trek", &["FX 3", "Domane AL 2", "Marlin 7", "Allant+ 7"]),
    ("Gazelle", &["Ultimate C380", "Medeo T9", "Esprit"]),
    (
        "Specialized",
        &["Sirrus X 4.0", "Turbo Vado 4.0", "Rockhopper"],
    ),
    ("Canyon", &["Grail CF SL 7", "Pathlite:ON 7", "Spectral 29"]),
    ("Riese & Müller", &["Load4 75", "Charger4 GT", "Culture"]),
    ("Giant", &["Escape 2", "TCR Advanced", "Talon 29"]),
    (
        "Brompton",
        &["C Line Explore", "P Line Urban", "Electric C Line"],
    ),
    ("Kalkhoff", &["Endeavour 5.B", "Image 3.B"]),
    ("Bianchi", &["Via Nirone 7", "Oltre", "Impulso"]),
    ("VanMoof", &["S3", "A5"]),
    ("Batavus", &["Finez", "Dinsdag"]),
    ("Orbea", &["Orca M30", "Vibe H30"]),
    ("ブリヂストン", &["アルベルト", "ステップクルーズ"]),
];

pub(super) const COLORS: &[&str] = &[
    "black",
    "matte black",
    "white",
    "red",
    "petrol blue",
    "silver",
    "bleu nuit",
    "grün",
    "orange",
    "sand",
];

pub(super) const ITEM_CATALOG: &[(&str, &[&str])] = &[
    (
        "CHN",
        &[
            "Chain KMC X11 118 links",
            "Chain Shimano CN-HG701",
            "チェーンオイル 100ml",
        ],
    ),
    (
        "TIR",
        &[
            "Tyre Schwalbe Marathon Plus 28\"",
            "Pneu Michelin Wild Enduro 29×2.4",
            "Tube 700×25c Presta",
        ],
    ),
    (
        "BRK",
        &[
            "Brake pads Shimano L03A (resin)",
            "Bremsbeläge Magura 9.C",
            "Disc rotor 180 mm",
        ],
    ),
    (
        "CAS",
        &["Cassette Shimano 105 11-34", "Cassette SRAM PG-1130"],
    ),
    (
        "CAB",
        &["Brake cable 1700 mm", "Shift cable kit — stainless"],
    ),
    ("GRP", &["Ergon GP1 grips", "Bar tape Lizard Skins"]),
    ("LGT", &["Front light 70 lux", "Rücklicht B&M Toplight"]),
    ("SVC", &["Labour 15 min", "Wheel truing", "Annual service"]),
];

pub(super) const DESCRIPTIONS: &[&str] = &[
    "Front brake squeals",
    "Rear derailleur out of tune; customer says it \"jumps\" in 3rd gear",
    "Platten hinten, Schlauch ersetzen",
    "Chaîne + cassette usées",
    "Wheel truing 🛠️ rear wheel",
    "Service annuel complet",
    "ブレーキ調整",
    "Headset play.\nCheck the fork too.",
    "Replace grips (L\\R)",
    "E-bike display error E-10 ⚡",
    "Tubeless setup 29×2.4",
    "Noise from bottom bracket 🤔",
    "Tyre\tand tube, front",
    "Inspection before a 1 000 km tour",
    "Kette springt — prüfen",
];
