//! Fixed vocabularies: names, titles and the LookML fields every dynamic map draws its keys from.
//! Keeping map keys in this small fixed set bounds the number of tables a relational normalizer
//! derives, whatever the dataset size.

/// Host used in every URL inside items (independent of where the mock listens, so responses are
/// byte-identical across servers).
pub(crate) const HOST: &str = "https://acme.cloud.looker.com";

/// A LookML model with its explore and fields (`view.field`), the date field first.
pub(crate) struct Model {
    pub name: &'static str,
    pub label: &'static str,
    pub explore: &'static str,
    pub fields: &'static [&'static str],
    /// Filter values per field index (same order as `fields`).
    pub filter_values: &'static [&'static [&'static str]],
}

pub(crate) const MODELS: &[Model] = &[
    Model {
        name: "thelook",
        label: "The Look",
        explore: "order_items",
        fields: &[
            "orders.created_date",
            "order_items.total_sale_price",
            "users.state",
            "users.country",
            "orders.status",
            "orders.count",
            "order_items.average_sale_price",
            "users.age_tier",
            "products.category",
            "products.brand",
        ],
        filter_values: &[
            &["30 days", "7 days", "this year", "2024/01/01 to 2024/06/30"],
            &[">100", "[0, 500]"],
            &["California", "New York,Texas", "São Paulo"],
            &["USA", "Canada,Mexico", "Deutschland"],
            &["complete", "-cancelled"],
            &[">10"],
            &[">=20"],
            &["25 to 34", "65 or Above"],
            &["Jeans,Accessories", "Outerwear & Coats"],
            &["Levi's", "Calvin Klein"],
        ],
    },
    Model {
        name: "finance",
        label: "Finance",
        explore: "ledger",
        fields: &[
            "ledger.posted_date",
            "ledger.amount",
            "accounts.name",
            "accounts.type",
            "cost_centers.name",
        ],
        filter_values: &[
            &["last quarter", "this year"],
            &["NOT NULL", ">0"],
            &["Revenue%", "Umsatzerlöse"],
            &["revenue", "expense"],
            &["EMEA,APAC", "本社"],
        ],
    },
    Model {
        name: "marketing",
        label: "Marketing",
        explore: "sessions",
        fields: &[
            "sessions.start_date",
            "sessions.count",
            "sessions.bounce_rate",
            "events.type",
            "campaigns.name",
        ],
        filter_values: &[
            &["14 days", "last month"],
            &[">0"],
            &["<0.5"],
            &["purchase", "cart,purchase"],
            &["Spring Sale 🌸", "Rentrée scolaire"],
        ],
    },
];

pub(crate) const VIS_TYPES: &[&str] = &[
    "looker_line",
    "looker_column",
    "looker_bar",
    "looker_grid",
    "single_value",
    "looker_pie",
    "table",
];

pub(crate) const TIMEZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "UTC",
];

/// (display, ascii) first names: accents, CJK and an emoji among plain ones.
pub(crate) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Priya", "priya"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("Ana", "ana"),
    ("Liam", "liam"),
    ("Chloé", "chloe"),
    ("Mateus", "mateus"),
    ("Aiko", "aiko"),
    ("Björn", "bjorn"),
    ("Fatima", "fatima"),
    ("Noah", "noah"),
    ("李", "li"),
    ("Olivia", "olivia"),
    ("Jürgen", "jurgen"),
    ("Mei", "mei"),
    ("Émile", "emile"),
    ("Ravi", "ravi"),
    ("Sofía", "sofia"),
    ("Kwame", "kwame"),
    ("Ines", "ines"),
    ("Hiroshi", "hiroshi"),
    ("Grace", "grace"),
    ("Łukasz", "lukasz"),
];

pub(crate) const LAST_NAMES: &[(&str, &str)] = &[
    ("Raman", "raman"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Nguyen", "nguyen"),
    ("O'Brien", "obrien"),
    ("Smith", "smith"),
    ("田中", "tanaka"),
    ("Kowalski", "kowalski"),
    ("Dubois", "dubois"),
    ("Haugen", "haugen"),
    ("Okafor", "okafor"),
    ("Silva", "silva"),
    ("Johansson", "johansson"),
    ("Patel", "patel"),
    ("Rossi", "rossi"),
    ("Kim", "kim"),
    ("Fernández", "fernandez"),
    ("Brown 🎸", "brown"),
    ("Ivanova", "ivanova"),
    ("Chen", "chen"),
];

pub(crate) const LOCALES: &[&str] = &["en", "en", "en", "de", "fr", "ja", "es", "pt_BR"];

pub(crate) const LOOKER_VERSIONS: &[&str] = &["23.18.41", "24.6.27", "24.10.15", "25.0.12"];

/// Title pieces for looks and dashboards.
pub(crate) const METRICS: &[&str] = &[
    "Revenue",
    "Orders",
    "Umsatz",
    "Bounce Rate",
    "売上",
    "Active Users",
    "Cost per Acquisition",
    "Marge brute",
    "Inventory Turnover",
    "Churn 📉",
];

pub(crate) const DIMENSIONS: &[&str] = &[
    "by State",
    "by Month",
    "nach Region",
    "par catégorie",
    "月次",
    "by Campaign 🚀",
    "by Brand",
    "by Cost Center",
    "— Overview",
    "YoY",
];

pub(crate) const DESCRIPTIONS: &[&str] = &[
    "Total sale price per day for the last 30 days, US only.",
    "Weekly revenue KPIs for the sales team.",
    "Übersicht für das Führungsteam.",
    "Source of truth for finance close ✅",
    "月次レポート",
    "Numbers refresh nightly at 02:00 UTC.",
];

/// Shared folders below the Shared root (ids 3..).
pub(crate) const SHARED_FOLDERS: &[&str] = &[
    "Sales Analytics",
    "Finanzen",
    "マーケティング",
    "Operations 🚚",
    "Executive",
    "Data Team",
];

pub(crate) const GROUP_NAMES: &[&str] = &[
    "Sales Analysts",
    "Finance",
    "Marketing 📣",
    "Data Engineering",
    "Führungskräfte",
    "東京オフィス",
    "Support",
    "Contractors",
];

/// (name, permission set, all_access, permissions, model set, models)
pub(crate) struct RoleDef {
    pub name: &'static str,
    pub permission_set: &'static str,
    pub all_access: bool,
    pub permissions: &'static [&'static str],
    pub model_set: &'static str,
    pub models: &'static [&'static str],
}

const VIEWER_PERMS: &[&str] = &[
    "access_data",
    "see_looks",
    "see_user_dashboards",
    "see_lookml_dashboards",
];
const ANALYST_PERMS: &[&str] = &[
    "access_data",
    "see_lookml_dashboards",
    "see_looks",
    "see_user_dashboards",
    "explore",
    "create_table_calculations",
    "save_content",
    "download_with_limit",
    "schedule_look_emails",
    "see_sql",
    "see_drill_overlay",
];
const DEV_PERMS: &[&str] = &[
    "access_data",
    "see_looks",
    "see_user_dashboards",
    "explore",
    "develop",
    "deploy",
    "see_lookml",
    "use_sql_runner",
    "manage_models",
];
const ADMIN_PERMS: &[&str] = &["administer"];
const ALL_MODELS: &[&str] = &[
    "thelook",
    "finance",
    "marketing",
    "inventory",
    "thelook_staging",
    "system__activity",
];

pub(crate) const ROLES: &[RoleDef] = &[
    RoleDef {
        name: "Admin",
        permission_set: "Admin",
        all_access: true,
        permissions: ADMIN_PERMS,
        model_set: "All",
        models: ALL_MODELS,
    },
    RoleDef {
        name: "Developer",
        permission_set: "Developer",
        all_access: false,
        permissions: DEV_PERMS,
        model_set: "All",
        models: ALL_MODELS,
    },
    RoleDef {
        name: "User",
        permission_set: "User",
        all_access: false,
        permissions: ANALYST_PERMS,
        model_set: "All",
        models: ALL_MODELS,
    },
    RoleDef {
        name: "Viewer",
        permission_set: "Viewer",
        all_access: false,
        permissions: VIEWER_PERMS,
        model_set: "All",
        models: ALL_MODELS,
    },
    RoleDef {
        name: "Sales Analyst",
        permission_set: "Analyst",
        all_access: false,
        permissions: ANALYST_PERMS,
        model_set: "Commerce Models",
        models: &["thelook", "marketing"],
    },
    RoleDef {
        name: "Finance Analyst",
        permission_set: "Analyst",
        all_access: false,
        permissions: ANALYST_PERMS,
        model_set: "Finance Models",
        models: &["finance"],
    },
    RoleDef {
        name: "Embed Viewer",
        permission_set: "Viewer",
        all_access: false,
        permissions: VIEWER_PERMS,
        model_set: "Commerce Models",
        models: &["thelook", "marketing"],
    },
    RoleDef {
        name: "Support 🛟",
        permission_set: "Support",
        all_access: false,
        permissions: VIEWER_PERMS,
        model_set: "All",
        models: ALL_MODELS,
    },
];

/// (name, label, git remote, has content)
pub(crate) const PROJECTS: &[(&str, &str)] = &[
    ("thelook", "git@github.com:acme/looker-thelook.git"),
    ("finance", "git@github.com:acme/looker-finance.git"),
    ("marketing", "https://gitlab.com/acme/looker-marketing.git"),
    ("inventory", ""),
];

/// (name, label, project, connection, has_content, explores: (name, label, description, hidden))
pub(crate) struct LookmlModelDef {
    pub name: &'static str,
    pub label: &'static str,
    pub project: &'static str,
    pub connection: &'static str,
    pub has_content: bool,
    pub explores: &'static [(&'static str, &'static str, Option<&'static str>, bool)],
}

pub(crate) const LOOKML_MODELS: &[LookmlModelDef] = &[
    LookmlModelDef {
        name: "thelook",
        label: "The Look",
        project: "thelook",
        connection: "snowflake_prod",
        has_content: true,
        explores: &[
            (
                "order_items",
                "Order Items",
                Some("Line items joined to orders, users, products"),
                false,
            ),
            ("users", "Users", None, false),
            ("inventory_snapshot", "Inventory Snapshot", None, true),
        ],
    },
    LookmlModelDef {
        name: "finance",
        label: "Finance",
        project: "finance",
        connection: "bigquery_analytics",
        has_content: true,
        explores: &[(
            "ledger",
            "General Ledger",
            Some("Journal lines with accounts"),
            false,
        )],
    },
    LookmlModelDef {
        name: "marketing",
        label: "Marketing",
        project: "marketing",
        connection: "bigquery_analytics",
        has_content: true,
        explores: &[
            ("sessions", "Web Sessions", None, false),
            ("campaigns", "Campaigns 📣", Some("Spend and attribution"), false),
        ],
    },
    LookmlModelDef {
        name: "thelook_staging",
        label: "The Look (staging)",
        project: "thelook",
        connection: "snowflake_prod",
        has_content: false,
        explores: &[("order_items", "Order Items", None, false)],
    },
    LookmlModelDef {
        name: "inventory",
        label: "Inventar",
        project: "inventory",
        connection: "postgres_app",
        has_content: false,
        explores: &[("stock_levels", "Stock Levels", None, false)],
    },
    LookmlModelDef {
        name: "hr",
        label: "人事",
        project: "inventory",
        connection: "postgres_app",
        has_content: false,
        explores: &[],
    },
];

pub(crate) const USER_ATTRIBUTES: &[(&str, &str, &str, Option<&str>, bool)] = &[
    // (name, label, type, default, is_system)
    ("email", "Email", "string", None, true),
    ("first_name", "First Name", "string", None, true),
    ("last_name", "Last Name", "string", None, true),
    ("name", "Name", "string", None, true),
    ("id", "ID", "number", None, true),
    ("locale", "Locale", "string", Some("en"), true),
    ("number_format", "Number Format", "string", Some("1,234.56"), true),
    (
        "first_day_of_week",
        "First Day of Week",
        "string",
        Some("Monday"),
        true,
    ),
    ("sales_region", "Sales Region", "string", Some("NA"), false),
    ("cost_center", "Kostenstelle", "number", Some("4200"), false),
    ("can_see_pii", "Can See PII", "yesno", Some("no"), false),
    (
        "allowed_brands",
        "Allowed Brands",
        "advanced_filter_string",
        Some("%"),
        false,
    ),
];
