//! The generated dataset: sizes, id schemes, per-item attributes and lookups.
//!
//! Item `i` of a resource is a pure function of `(seed, resource, i)`: every attribute comes from a
//! small PRNG seeded by hashing those three, so any page can be generated on its own, in any order,
//! without generating what comes before it. The only state kept is the list of query ids that
//! dashboard elements and scheduled plans own (a few bytes per dashboard and plan), computed once so
//! that `count("queries")` and `GET /queries/{id}` are exact.

mod render;
mod vocab;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::MockConfig;
use crate::json::{Json, Sel};

pub(crate) use render::Kind;

/// The resources the mock serves, named like the tables the pipeline creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Res {
    Users,
    Looks,
    Dashboards,
    Queries,
    Projects,
    Folders,
    Groups,
    Roles,
    LookmlModels,
    ScheduledPlans,
    Connections,
    UserAttributes,
}

impl Res {
    /// Every resource, in table order.
    pub(crate) const ALL: [Res; 12] = [
        Res::Users,
        Res::Looks,
        Res::Dashboards,
        Res::Queries,
        Res::Projects,
        Res::Folders,
        Res::Groups,
        Res::Roles,
        Res::LookmlModels,
        Res::ScheduledPlans,
        Res::Connections,
        Res::UserAttributes,
    ];

    /// The resource (table) name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Res::Users => "users",
            Res::Looks => "looks",
            Res::Dashboards => "dashboards",
            Res::Queries => "queries",
            Res::Projects => "projects",
            Res::Folders => "folders",
            Res::Groups => "groups",
            Res::Roles => "roles",
            Res::LookmlModels => "lookml_models",
            Res::ScheduledPlans => "scheduled_plans",
            Res::Connections => "connections",
            Res::UserAttributes => "user_attributes",
        }
    }

    /// The resource called `name`.
    pub(crate) fn parse(name: &str) -> Option<Res> {
        Res::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The item shape served by this resource's main list endpoint (and by `Dataset::item`).
    pub(crate) fn list_kind(self) -> Kind {
        match self {
            Res::Users => Kind::User,
            Res::Looks => Kind::Look,
            Res::Dashboards => Kind::Dashboard,
            Res::Queries => Kind::Query,
            Res::Projects => Kind::Project,
            Res::Folders => Kind::Folder,
            Res::Groups => Kind::Group,
            Res::Roles => Kind::Role,
            Res::LookmlModels => Kind::LookmlModel,
            Res::ScheduledPlans => Kind::ScheduledPlan,
            Res::Connections => Kind::Connection,
            Res::UserAttributes => Kind::UserAttribute,
        }
    }

    fn tag(self) -> u64 {
        self as u64 + 1
    }
}

// ---------------------------------------------------------------------------------------------
// PRNG

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64, seeded from `(seed, stream tag, index)`.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, tag: u64, index: u64) -> Rng {
        Rng(mix(
            seed.wrapping_add(GOLDEN) ^ mix(tag.wrapping_mul(GOLDEN) ^ mix(index.wrapping_add(0x51ED)))
        ))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn idx(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A random-looking token of `N` characters from `[A-Za-z0-9]`.
    pub(crate) fn token<const N: usize>(&mut self) -> [u8; N] {
        const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = [b'A'; N];
        for b in out.iter_mut() {
            *b = ALPHABET[self.below(62) as usize];
        }
        out
    }
}

/// Stream tags for sub-structures (beyond the per-resource tags).
const TAG_ELEMENTS: u64 = 101;
const TAG_PLAN_TARGET: u64 = 102;
const TAG_TOKEN: u64 = 103;
const TAG_HIDDEN: u64 = 104;

/// The id of the LookML dashboards root folder (quirks only).
pub(crate) const LOOKML_FOLDER: &str = "lookml";

/// First query id minus one; query ids are `QUERY_BASE + …` by range (see `Dataset`).
const QUERY_BASE: u64 = 1000;
/// At most this many elements per dashboard.
pub(crate) const MAX_ELEMENTS: u64 = 4;
/// Folder ids 1 (Shared root) and 2 (Users root), then the shared folders, then personal folders.
const FIRST_PERSONAL_FOLDER: u64 = 3 + vocab::SHARED_FOLDERS.len() as u64;
/// One personal folder per this many users.
const USERS_PER_PERSONAL_FOLDER: u64 = 20;
/// Every this-many-th scheduled plan (1, 1+N, …) belongs to the API user "1".
const PLANS_PER_API_USER_PLAN: u64 = 5;
/// Users added by each revision from 2 on (see [`MockConfig::revision`]).
const NEW_USERS_PER_REVISION: u64 = 3;

/// A dashboard element, as far as query ids are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Element {
    /// A query tile with its own query.
    Vis,
    /// A query tile showing a saved look (and that look's query).
    LookTile(u64),
    /// A text tile: no query.
    Text,
}

/// What a scheduled plan delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlanTarget {
    Look(u64),
    Dashboard(u64),
    /// A query id: either a look's query or one that only this plan references.
    Query(u64),
}

/// A cached sort order: item indexes in served order.
type Order = Arc<Vec<u32>>;
/// Sort orders kept at most (each is 4 bytes per item).
const MAX_CACHED_ORDERS: usize = 32;

/// The data a [`crate::MockServer`] serves, generated lazily and deterministically from the
/// configured sizes and seed.
pub struct Dataset {
    seed: u64,
    revision: u64,
    /// Serve real instances' quirks ([`MockConfig::quirks`]).
    quirks: bool,
    /// Users of revision 0: owners, folders and groups derive from these.
    users: u64,
    /// Users added by later revisions, after the first `users`.
    new_users: u64,
    looks: u64,
    dashboards: u64,
    folders: u64,
    groups: u64,
    plans: u64,
    /// Query ids of element tiles that own their query, ascending.
    element_qids: Vec<u64>,
    /// Query ids that only a scheduled plan references, ascending.
    orphan_qids: Vec<u64>,
    /// Plan indexes (0-based) owned by the API user "1".
    api_user_plans: Order,
    /// Referenced query ids that answer 404 (quirks only), ascending.
    hidden_qids: Vec<u64>,
    sort_cache: Mutex<HashMap<(Res, String), Order>>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("seed", &self.seed)
            .field("revision", &self.revision)
            .field("quirks", &self.quirks)
            .field("users", &(self.users + self.new_users))
            .field("looks", &self.looks)
            .field("dashboards", &self.dashboards)
            .field("queries", &self.query_count())
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// The dataset of a configuration. Cheap: items are generated on demand; only the query ids
    /// owned by dashboard elements and scheduled plans are listed up front.
    pub fn new(config: &MockConfig) -> Self {
        let users = config.users as u64;
        let mut d = Dataset {
            seed: config.seed,
            revision: config.revision,
            quirks: config.quirks,
            users,
            new_users: NEW_USERS_PER_REVISION * config.revision.saturating_sub(1),
            looks: config.looks as u64,
            dashboards: config.dashboards as u64,
            folders: FIRST_PERSONAL_FOLDER - 1 + users.div_ceil(USERS_PER_PERSONAL_FOLDER),
            groups: users / 200 + 3,
            plans: config.looks as u64 / 5 + config.dashboards as u64 / 5,
            element_qids: Vec::new(),
            orphan_qids: Vec::new(),
            api_user_plans: Arc::new(Vec::new()),
            hidden_qids: Vec::new(),
            sort_cache: Mutex::new(HashMap::new()),
        };
        let mut element_qids = Vec::new();
        for dash in 1..=d.dashboards {
            for (e, el) in d.elements(dash).iter().enumerate() {
                if *el == Element::Vis {
                    element_qids.push(d.element_qid(dash, e as u64));
                }
            }
        }
        let mut orphan_qids = Vec::new();
        let mut api_user_plans = Vec::new();
        for p in 1..=d.plans {
            if let PlanTarget::Query(q) = d.plan_target(p)
                && q == d.orphan_qid(p)
            {
                orphan_qids.push(q);
            }
            if d.plan_owner(p) == 1 {
                api_user_plans.push((p - 1) as u32);
            }
        }
        d.element_qids = element_qids;
        d.orphan_qids = orphan_qids;
        d.api_user_plans = Arc::new(api_user_plans);
        if d.quirks {
            d.hidden_qids = d.choose_hidden_qids();
        }
        d
    }

    /// Number of filter field names each revision from 1 on adds to the queries' `filters` and
    /// `filter_config` maps when quirks are on (each query gets three of them).
    pub const REVISION_FIELDS: u64 = 25;

    /// Referenced query ids that answer 404 when quirks are on (hidden from the API user), sorted
    /// numerically: about one in eight of the queries that are embedded nowhere (the queries of
    /// odd looks and those only scheduled plans reference), and at least one when there is any.
    /// Empty without quirks.
    pub fn hidden_query_ids(&self) -> Vec<String> {
        self.hidden_qids.iter().map(u64::to_string).collect()
    }

    /// Whether query `qid` answers 404.
    pub(crate) fn is_hidden_query(&self, qid: u64) -> bool {
        self.hidden_qids.binary_search(&qid).is_ok()
    }

    fn choose_hidden_qids(&self) -> Vec<u64> {
        let mut candidates: Vec<u64> = (1..=self.looks)
            .filter(|l| l % 2 == 1)
            .map(|l| self.look_qid(l))
            .chain(self.orphan_qids.iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut hidden: Vec<u64> = candidates
            .iter()
            .copied()
            .filter(|&q| Rng::new(self.seed, TAG_HIDDEN, q).chance(12))
            .collect();
        if hidden.is_empty()
            && let Some(&first) = candidates.first()
        {
            hidden.push(first);
        }
        hidden
    }

    /// Whether real instances' quirks are served ([`MockConfig::quirks`]).
    pub(crate) fn quirks(&self) -> bool {
        self.quirks
    }

    /// The seed of the data.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of items the list endpoint of `resource` serves (`"users"`, `"looks"`, …; 0 for an
    /// unknown name); for `"users"`, the configured users plus those added by the revision
    /// ([`MockConfig::revision`]); for `"queries"`, the number of distinct query ids referenced by looks,
    /// dashboard elements (`query_id`, `query.id`, `result_maker.query_id`, `look.query_id`) and
    /// scheduled plans, hidden ones ([`Dataset::hidden_query_ids`]) included; for `"folders"`, with
    /// quirks, the `lookml` folder included.
    pub fn count(&self, resource: &str) -> usize {
        Res::parse(resource).map_or(0, |r| self.len(r))
    }

    /// Item `index` (0-based, in id order) of `resource`, exactly as its main list endpoint serves
    /// it: `users` as User, `looks` as Look, `dashboards` as Dashboard (search_dashboards),
    /// `folders` as Folder (search_folders), `queries` in `referenced_query_ids` order.
    pub fn item(&self, resource: &str, index: usize) -> Option<serde_json::Value> {
        let res = Res::parse(resource)?;
        if index >= self.len(res) {
            return None;
        }
        let mut out = Vec::new();
        self.write(res.list_kind(), index, &mut Json::new(&mut out, None));
        serde_json::from_slice(&out).ok()
    }

    /// The query with this id, as `GET /queries/{id}` serves it; `None` for an unreferenced id and
    /// for a hidden one ([`Dataset::hidden_query_ids`]).
    pub fn query(&self, id: &str) -> Option<serde_json::Value> {
        let index = self.index_of(Res::Queries, id)?;
        if self.is_hidden_query(self.query_id_at(index)) {
            return None;
        }
        self.item("queries", index)
    }

    /// Every query id referenced by looks, dashboard elements and scheduled plans, each once,
    /// sorted numerically.
    pub fn referenced_query_ids(&self) -> Vec<String> {
        (0..self.query_count())
            .map(|i| self.query_id_at(i).to_string())
            .collect()
    }

    // ---- sizes and ids ----

    pub(crate) fn len(&self, res: Res) -> usize {
        let n = match res {
            Res::Users => self.users + self.new_users,
            Res::Looks => self.looks,
            Res::Dashboards => self.dashboards,
            Res::Queries => return self.query_count(),
            Res::Projects => vocab::PROJECTS.len() as u64,
            // With quirks, the LookML dashboards root `lookml` follows the numbered folders.
            Res::Folders => self.folders + u64::from(self.quirks),
            Res::Groups => self.groups,
            Res::Roles => vocab::ROLES.len() as u64,
            Res::LookmlModels => vocab::LOOKML_MODELS.len() as u64,
            Res::ScheduledPlans => self.plans,
            Res::Connections => render::CONNECTIONS.len() as u64,
            Res::UserAttributes => vocab::USER_ATTRIBUTES.len() as u64,
        };
        n as usize
    }

    fn query_count(&self) -> usize {
        self.element_qids.len() + self.looks as usize + self.orphan_qids.len()
    }

    pub(crate) fn query_id_at(&self, index: usize) -> u64 {
        let e = self.element_qids.len();
        let l = self.looks as usize;
        if index < e {
            self.element_qids[index]
        } else if index < e + l {
            self.look_qid((index - e) as u64 + 1)
        } else {
            self.orphan_qids[index - e - l]
        }
    }

    /// Index of the item with this id (the name, for projects, models and connections).
    pub(crate) fn index_of(&self, res: Res, id: &str) -> Option<usize> {
        match res {
            Res::Projects => vocab::PROJECTS.iter().position(|p| p.0 == id),
            Res::LookmlModels => vocab::LOOKML_MODELS.iter().position(|m| m.name == id),
            Res::Connections => render::CONNECTIONS.iter().position(|c| c.name == id),
            Res::Folders if id == LOOKML_FOLDER => self.quirks.then_some(self.folders as usize),
            Res::Queries => {
                let q = parse_id(id)?;
                let looks_start = QUERY_BASE + MAX_ELEMENTS * self.dashboards;
                if q <= looks_start {
                    self.element_qids.binary_search(&q).ok()
                } else if q <= looks_start + self.looks {
                    Some(self.element_qids.len() + (q - looks_start - 1) as usize)
                } else {
                    self.orphan_qids
                        .binary_search(&q)
                        .ok()
                        .map(|i| i + self.element_qids.len() + self.looks as usize)
                }
            }
            Res::Folders => {
                let n = parse_id(id)?;
                (n >= 1 && n <= self.folders).then(|| (n - 1) as usize)
            }
            _ => {
                let n = parse_id(id)?;
                (n >= 1 && n <= self.len(res) as u64).then(|| (n - 1) as usize)
            }
        }
    }

    /// Writes item `index` of the resource of `kind` in that shape.
    pub(crate) fn write(&self, kind: Kind, index: usize, w: &mut Json<'_, '_>) {
        render::write(self, kind, index, w);
    }

    /// The item indexes of the API user's scheduled plans.
    pub(crate) fn api_user_plans(&self) -> Order {
        self.api_user_plans.clone()
    }

    /// The order of `res` for a `sorts=` value: `None` = ascending id, otherwise explicit indexes.
    /// Unknown sort fields compare equal; ties are broken by ascending id.
    pub(crate) fn sort_order(&self, res: Res, sorts: &str) -> Option<Order> {
        let keys: Vec<(String, bool)> = sorts
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let mut parts = s.split_whitespace();
                let field = parts.next().unwrap_or_default().to_owned();
                let desc = parts.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                (field, desc)
            })
            .collect();
        match keys.as_slice() {
            [] => return None,
            [(f, false), ..] if f == "id" => return None,
            _ => {}
        }
        let canonical = keys
            .iter()
            .map(|(f, d)| format!("{f}{}", if *d { " desc" } else { "" }))
            .collect::<Vec<_>>()
            .join(",");
        if let Ok(cache) = self.sort_cache.lock()
            && let Some(order) = cache.get(&(res, canonical.clone()))
        {
            return Some(order.clone());
        }
        let n = self.len(res);
        let values: Vec<Vec<SortVal>> = (0..n)
            .map(|i| {
                keys.iter()
                    .map(|(f, _)| render::sort_value(self, res, i, f))
                    .collect()
            })
            .collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            for (k, (_, desc)) in keys.iter().enumerate() {
                let ord = values[a as usize][k].cmp(&values[b as usize][k]);
                let ord = if *desc { ord.reverse() } else { ord };
                if ord.is_ne() {
                    return ord;
                }
            }
            a.cmp(&b)
        });
        let order = Arc::new(order);
        if let Ok(mut cache) = self.sort_cache.lock() {
            // Bounded: a client sending ever new sort strings cannot grow memory without limit.
            if cache.len() >= MAX_CACHED_ORDERS {
                cache.clear();
            }
            cache.insert((res, canonical), order.clone());
        }
        Some(order)
    }

    /// A fresh access token (deterministic in the seed and `n`).
    pub(crate) fn token(&self, n: u64) -> String {
        let bytes: [u8; 40] = Rng::new(self.seed, TAG_TOKEN, n).token();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    // ---- structure shared by several renderers ----

    pub(crate) fn rng(&self, res: Res, index: u64) -> Rng {
        Rng::new(self.seed, res.tag(), index)
    }

    /// The elements of dashboard `dash` (1-based id).
    pub(crate) fn elements(&self, dash: u64) -> Vec<Element> {
        let mut r = Rng::new(self.seed, TAG_ELEMENTS, dash);
        let n = 1 + r.below(MAX_ELEMENTS);
        (0..n)
            .map(|e| {
                if n > 1 && e == n - 1 && r.chance(35) {
                    Element::Text
                } else if self.looks >= 2 && r.chance(30) {
                    // Only even looks appear on dashboards, so odd looks' queries are embedded nowhere.
                    Element::LookTile(2 * (1 + r.below(self.looks / 2)))
                } else {
                    Element::Vis
                }
            })
            .collect()
    }

    pub(crate) fn element_qid(&self, dash: u64, e: u64) -> u64 {
        QUERY_BASE + MAX_ELEMENTS * (dash - 1) + e + 1
    }

    pub(crate) fn look_qid(&self, look: u64) -> u64 {
        QUERY_BASE + MAX_ELEMENTS * self.dashboards + look
    }

    pub(crate) fn orphan_qid(&self, plan: u64) -> u64 {
        QUERY_BASE + MAX_ELEMENTS * self.dashboards + self.looks + plan
    }

    /// What scheduled plan `plan` (1-based id) delivers.
    pub(crate) fn plan_target(&self, plan: u64) -> PlanTarget {
        let mut r = Rng::new(self.seed, TAG_PLAN_TARGET, plan);
        match plan % 10 {
            3 => return PlanTarget::Query(self.orphan_qid(plan)),
            7 if self.looks > 0 => {
                return PlanTarget::Query(self.look_qid(1 + r.below(self.looks)));
            }
            _ => {}
        }
        if self.looks > 0 && (self.dashboards == 0 || r.chance(60)) {
            PlanTarget::Look(1 + r.below(self.looks))
        } else if self.dashboards > 0 {
            PlanTarget::Dashboard(1 + r.below(self.dashboards))
        } else {
            PlanTarget::Query(self.orphan_qid(plan))
        }
    }

    /// The owner (user id) of scheduled plan `plan`.
    pub(crate) fn plan_owner(&self, plan: u64) -> u64 {
        if plan % PLANS_PER_API_USER_PLAN == 1 {
            1
        } else {
            1 + self.rng(Res::ScheduledPlans, plan).below(self.users.max(1))
        }
    }

    /// A user id for owners and creators.
    pub(crate) fn some_user(&self, r: &mut Rng) -> u64 {
        1 + r.below(self.users.max(1))
    }

    /// The personal folder of user `u`, if they have one.
    pub(crate) fn personal_folder(&self, u: u64) -> Option<u64> {
        (u - 1)
            .is_multiple_of(USERS_PER_PERSONAL_FOLDER)
            .then(|| FIRST_PERSONAL_FOLDER + (u - 1) / USERS_PER_PERSONAL_FOLDER)
            .filter(|&f| f <= self.folders)
    }

    /// Owner of personal folder `f`.
    pub(crate) fn personal_folder_owner(&self, f: u64) -> Option<u64> {
        (f >= FIRST_PERSONAL_FOLDER && f <= self.folders)
            .then(|| (f - FIRST_PERSONAL_FOLDER) * USERS_PER_PERSONAL_FOLDER + 1)
    }

    /// Number of folders that hold content (all but the Users root, id 2).
    fn content_folders(&self) -> u64 {
        self.folders - 1
    }

    /// The folder of look or dashboard `n` (1-based id).
    pub(crate) fn content_folder(&self, n: u64) -> u64 {
        let pos = (n - 1) % self.content_folders();
        if pos == 0 { 1 } else { pos + 2 }
    }

    /// Ids `n` (looks or dashboards, up to `max`) whose folder is `f`.
    pub(crate) fn folder_content(&self, f: u64, max: u64) -> impl Iterator<Item = u64> + use<> {
        let pos = match f {
            1 => Some(0),
            2 => None,
            f => Some(f - 2),
        };
        let step = self.content_folders();
        pos.into_iter()
            .flat_map(move |p| (0..).map(move |k| p + 1 + k * step))
            .take_while(move |&n| n <= max)
    }

    /// Number of subfolders of folder `f`.
    pub(crate) fn child_count(&self, f: u64) -> i64 {
        match f {
            1 => vocab::SHARED_FOLDERS.len() as i64,
            2 => (self.folders + 1 - FIRST_PERSONAL_FOLDER) as i64,
            _ => 0,
        }
    }

    /// Group ids of user `u`: "All Users" (1) and one other group.
    pub(crate) fn user_groups(&self, u: u64) -> [u64; 2] {
        [1, 2 + (u - 1) % (self.groups - 1)]
    }

    /// Members of group `g` (new users of later revisions included).
    pub(crate) fn group_size(&self, g: u64) -> u64 {
        let users = self.users + self.new_users;
        if g == 1 {
            return users;
        }
        let k = self.groups - 1;
        let r = g - 2;
        if users > r { (users - r).div_ceil(k) } else { 0 }
    }

    /// The data revision ([`MockConfig::revision`]).
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn sizes(&self) -> (u64, u64, u64, u64) {
        (self.users, self.looks, self.dashboards, self.folders)
    }
}

/// A sortable value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortVal {
    Null,
    Int(i64),
    Str(String),
}

/// A positive decimal id.
fn parse_id(id: &str) -> Option<u64> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// The JSON of the selected fields of item `index`, for the server's single-item routes.
pub(crate) fn render_one(d: &Dataset, kind: Kind, index: usize, sel: Option<&Sel>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    d.write(kind, index, &mut Json::new(&mut out, sel));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_is_consistent() {
        for m in vocab::MODELS {
            assert_eq!(m.fields.len(), m.filter_values.len(), "{}", m.name);
            assert!(m.fields.len() >= 2);
            assert!(m.filter_values.iter().all(|v| !v.is_empty()));
            assert!(m.fields.iter().all(|f| f.contains('.')));
        }
        let total: usize = vocab::MODELS.iter().map(|m| m.fields.len()).sum();
        assert_eq!(total, 20);
    }

    #[test]
    fn ids_round_trip() {
        let d = Dataset::new(&MockConfig::with_size(95, 13, 9));
        for res in Res::ALL {
            for i in 0..d.len(res) {
                let item = d.item(res.name(), i).unwrap();
                let key = match res {
                    Res::LookmlModels | Res::Connections => "name",
                    _ => "id",
                };
                let id = item[key].as_str().unwrap();
                assert_eq!(d.index_of(res, id), Some(i), "{} {id}", res.name());
            }
        }
        assert_eq!(d.index_of(Res::Users, "0"), None);
        assert_eq!(d.index_of(Res::Users, "96"), None);
        assert_eq!(d.index_of(Res::Users, "+1"), None);
        assert_eq!(d.index_of(Res::Queries, "1000"), None);
    }

    #[test]
    fn folders_partition_content() {
        let d = Dataset::new(&MockConfig::with_size(333, 77, 41));
        let (_, looks, dashboards, folders) = d.sizes();
        let mut seen_looks = Vec::new();
        let mut seen_dashboards = Vec::new();
        for f in 1..=folders {
            for l in d.folder_content(f, looks) {
                assert_eq!(d.content_folder(l), f);
                seen_looks.push(l);
            }
            seen_dashboards.extend(d.folder_content(f, dashboards));
        }
        seen_looks.sort_unstable();
        seen_dashboards.sort_unstable();
        assert_eq!(seen_looks, (1..=looks).collect::<Vec<_>>());
        assert_eq!(seen_dashboards, (1..=dashboards).collect::<Vec<_>>());
        for u in 1..=333 {
            if let Some(f) = d.personal_folder(u) {
                assert_eq!(d.personal_folder_owner(f), Some(u));
            }
        }
    }
}
