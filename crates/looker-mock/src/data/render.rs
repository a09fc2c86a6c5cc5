//! Item renderers, one per API 4.0 schema, writing straight into a [`Json`] writer. Key sets and
//! nesting follow `tests/data/item_shapes.json`.

use super::vocab::{self, HOST, MODELS};
use super::{Dataset, Element, PlanTarget, Res, Rng, SortVal};
use crate::json::{Json, TsStyle};

/// The item shapes the server renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    /// Look (search_looks, all_looks).
    Look,
    /// LookWithQuery (`GET /looks/{id}`, dashboard elements): Look + `query` + `url`.
    LookWithQuery,
    /// Dashboard (search_dashboards, `GET /dashboards/{id}`).
    Dashboard,
    /// DashboardBase (all_dashboards, inside Folder).
    DashboardBase,
    Query,
    Project,
    /// Folder (search_folders): FolderBase + `dashboards` + `looks`.
    Folder,
    /// FolderBase (all_folders, inside looks and dashboards).
    FolderBase,
    Group,
    Role,
    LookmlModel,
    ScheduledPlan,
    Connection,
    UserAttribute,
}

impl Kind {
    /// The resource whose items this shape renders.
    pub(crate) fn res(self) -> Res {
        match self {
            Kind::User => Res::Users,
            Kind::Look | Kind::LookWithQuery => Res::Looks,
            Kind::Dashboard | Kind::DashboardBase => Res::Dashboards,
            Kind::Query => Res::Queries,
            Kind::Project => Res::Projects,
            Kind::Folder | Kind::FolderBase => Res::Folders,
            Kind::Group => Res::Groups,
            Kind::Role => Res::Roles,
            Kind::LookmlModel => Res::LookmlModels,
            Kind::ScheduledPlan => Res::ScheduledPlans,
            Kind::Connection => Res::Connections,
            Kind::UserAttribute => Res::UserAttributes,
        }
    }
}

/// Writes item `index` (0-based) in shape `kind`.
pub(crate) fn write(d: &Dataset, kind: Kind, index: usize, w: &mut Json<'_, '_>) {
    let id = index as u64 + 1;
    match kind {
        Kind::User => user(d, id, w),
        Kind::Look => look(d, id, LookShape::Look, w),
        Kind::LookWithQuery => look(d, id, LookShape::WithQuery, w),
        Kind::Dashboard => dashboard(d, id, true, w),
        Kind::DashboardBase => dashboard(d, id, false, w),
        Kind::Query => query(d, d.query_id_at(index), w),
        Kind::Project => project(d, index, w),
        Kind::Folder => folder(d, id, true, w),
        Kind::FolderBase => folder(d, id, false, w),
        Kind::Group => group(d, id, w),
        Kind::Role => role(index, w),
        Kind::LookmlModel => lookml_model(index, w),
        Kind::ScheduledPlan => plan(d, id, w),
        Kind::Connection => connection(index, w),
        Kind::UserAttribute => user_attribute(index, w),
    }
}

/// 2020-01-01T00:00:00Z: the earliest generated timestamp.
const T0: i64 = 1_577_836_800;
/// 2025-06-01T00:00:00Z: the "now" of the generated data.
const T_NOW: i64 = 1_748_736_000;
const DAY: i64 = 86_400;

fn when(r: &mut Rng, from: i64, to: i64) -> i64 {
    if to <= from {
        from
    } else {
        from + r.below((to - from) as u64) as i64
    }
}

/// Stream tags of the timestamp renderings (quirks), one per field family.
const TS_CREDENTIALS: u64 = 201;
const TS_LOGIN: u64 = 202;
const TS_CONTENT: u64 = 203;
const TS_VIEWED: u64 = 204;
const TS_FOLDER: u64 = 205;
const TS_PLAN: u64 = 206;

/// How the timestamp of field family `tag` of item `id` is rendered: Looker's rendering without
/// quirks and for item 1 (so the column is typed by an ISO value); otherwise one in six each at
/// a `-07:00` offset with milliseconds, without a fraction, and (when `epoch`) as epoch digits.
fn ts_style(d: &Dataset, tag: u64, id: u64, epoch: bool) -> TsStyle {
    if !d.quirks() || id <= 1 {
        return TsStyle::Looker;
    }
    let mut r = Rng::new(d.seed(), tag, id);
    match r.below(6) {
        0 => TsStyle::Offset {
            minutes: -420,
            millis: r.below(1000) as u16,
        },
        1 => TsStyle::NoFraction,
        2 if epoch => TsStyle::EpochDigits,
        _ => TsStyle::Looker,
    }
}

fn as_str<const N: usize>(b: &[u8; N]) -> &str {
    // Tokens are ASCII letters and digits.
    std::str::from_utf8(b).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// `can` maps (fixed per object type)

const CAN_USER: &[u8] = br#"{"show":true,"index":true,"show_details":true,"index_details":true,"sudo":true}"#;
const CAN_LOOK: &[u8] = br#"{"download":true,"index":true,"show":true,"copy":true,"run":true,"create":true,"explore":true,"move":true,"update":true,"destroy":true,"recover":true,"update_publicity":true,"show_errors":true,"find_and_replace":true,"schedule":true,"render":true}"#;
const CAN_DASHBOARD: &[u8] = br#"{"download":true,"see_lookml":true,"index":true,"show":true,"copy":true,"run":true,"create":true,"move":true,"update":true,"destroy":true,"recover":true,"schedule":true,"render":true}"#;
const CAN_FOLDER: &[u8] = br#"{"index":true,"show":true,"create":true,"see_admin_spaces":true,"update":true,"destroy":true,"move_content":true,"edit_content":true}"#;
const CAN_QUERY: &[u8] = br#"{"run":true,"see_results":true,"explore":true,"create":true,"show":true,"cost_estimate":true,"index":true,"see_lookml":true,"see_aggregate_table_lookml":true,"see_derived_table_lookml":true,"see_sql":true,"save":true,"generate_drill_links":true,"download":true,"download_unlimited":true,"use_custom_fields":true,"schedule":true}"#;
const CAN_ELEMENT: &[u8] = br#"{"show":true,"index":true,"update":true,"destroy":true}"#;
const CAN_COMPONENT: &[u8] = br#"{"show":true,"index":true,"update":true}"#;
const CAN_PROJECT: &[u8] =
    br#"{"index":true,"show":true,"create":true,"update":true,"destroy":true,"deploy":true}"#;
const CAN_GROUP: &[u8] = br#"{"show":true,"index":true,"update":true,"delete":true,"edit_in_ui":true,"add_to_content_metadata":true}"#;
const CAN_MODEL: &[u8] = br#"{"index":true,"show":true,"create":true,"update":true,"destroy":true}"#;
const CAN_PLAN: &[u8] = br#"{"show":true,"index":true,"update":true,"destroy":true,"run_once":true}"#;
const CAN_CONNECTION: &[u8] = br#"{"index":true,"index_limited":true,"show":true,"cost_estimate":true,"access_data":true,"explore":true,"refresh_schemas":true,"destroy":true,"test":true,"create":true,"update":true}"#;
const CAN_USER_ATTRIBUTE: &[u8] =
    br#"{"show":true,"index":true,"create":true,"update":true,"destroy":true,"set_value":true}"#;

// ---------------------------------------------------------------------------------------------
// users

/// From revision 1, users whose id is a multiple of this have another first name.
const USERS_PER_RENAME: u64 = 7;
/// From revision 1, looks whose id is a multiple of this have another title.
const LOOKS_PER_RETITLE: u64 = 5;

struct UserA {
    id: u64,
    first: usize,
    /// The first name of a later revision (the email keeps the original one).
    renamed: Option<usize>,
    last: usize,
    avatar: [u8; 16],
    disabled: bool,
    locale: &'static str,
    service: bool,
    created: i64,
    logged_in: Option<i64>,
    api3: Option<([u8; 20], i64)>,
    roles: [u64; 2],
    n_roles: usize,
    versions: usize,
    ui_state: bool,
    iam_admin: bool,
    /// Quirks: a user with `""` as email.
    no_email: bool,
}

fn user_attrs(d: &Dataset, id: u64) -> UserA {
    let mut r = d.rng(Res::Users, id);
    let first = r.idx(vocab::FIRST_NAMES.len());
    let last = r.idx(vocab::LAST_NAMES.len());
    let mut avatar = [0u8; 16];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in avatar.iter_mut() {
        *b = HEX[r.below(16) as usize];
    }
    let created = when(&mut r, T0, T_NOW - 30 * DAY);
    let mut logged_in = (!r.chance(15)).then(|| when(&mut r, created, T_NOW));
    if d.quirks() && id == 1 && logged_in.is_none() {
        // The first row types `logged_in_at` as a timestamp, so `""` of later rows is a variant.
        logged_in = Some(created + DAY);
    }
    let n_roles = 1 + r.below(2) as usize;
    let nr = vocab::ROLES.len() as u64;
    let roles = [1 + r.below(nr), 1 + r.below(nr)];
    let roles = if roles[0] == roles[1] {
        [roles[0], 0]
    } else {
        roles
    };
    let n_roles = if roles[1] == 0 { 1 } else { n_roles };
    let mut roles = roles;
    if n_roles == 2 && roles[0] > roles[1] {
        roles.swap(0, 1);
    }
    // Revisions rename every 7th user, differently in each revision, and change the length of
    // their `looker_versions` list.
    let revised = d.revision() > 0 && id.is_multiple_of(USERS_PER_RENAME);
    let renamed = revised
        .then(|| (first + d.revision() as usize) % vocab::FIRST_NAMES.len())
        .filter(|&f| f != first);
    UserA {
        id,
        first,
        renamed,
        last,
        avatar,
        disabled: r.chance(4),
        locale: r.pick(vocab::LOCALES),
        service: id != 1 && r.chance(1),
        created,
        logged_in,
        api3: r
            .chance(10)
            .then(|| (r.token::<20>(), when(&mut r, created, T_NOW))),
        roles,
        n_roles,
        versions: {
            let n = vocab::LOOKER_VERSIONS.len();
            let versions = 1 + r.idx(n);
            if revised { versions % n + 1 } else { versions }
        },
        ui_state: r.chance(20),
        iam_admin: id == 1,
        no_email: id != 1 && quirk_every(d, id + 3, 17),
    }
}

impl UserA {
    fn first_name(&self) -> &'static str {
        if self.id == 1 {
            "Looker"
        } else {
            vocab::FIRST_NAMES[self.renamed.unwrap_or(self.first)].0
        }
    }
    fn last_name(&self) -> &'static str {
        if self.id == 1 {
            "Admin"
        } else {
            vocab::LAST_NAMES[self.last].0
        }
    }
    fn email(&self) -> String {
        if self.service || self.no_email {
            String::new()
        } else if self.id == 1 {
            "looker.admin@acme.com".to_owned()
        } else {
            format!(
                "{}.{}{}@acme.com",
                vocab::FIRST_NAMES[self.first].1,
                vocab::LAST_NAMES[self.last].1,
                self.id
            )
        }
    }
    fn display_name(&self) -> String {
        format!("{} {}", self.first_name(), self.last_name())
    }
}

fn avatar_url(w: &mut Json<'_, '_>, u: &UserA) {
    w.fmt(
        "avatar_url",
        format_args!(
            "https://gravatar.lookercdn.com/avatar/{}?s=156&d=blank",
            as_str(&u.avatar)
        ),
    );
}

fn user(d: &Dataset, id: u64, w: &mut Json<'_, '_>) {
    let u = user_attrs(d, id);
    let email = u.email();
    w.vo();
    w.raw("can", CAN_USER);
    avatar_url(w, &u);
    w.fmt(
        "avatar_url_without_sizing",
        format_args!(
            "https://gravatar.lookercdn.com/avatar/{}?d=blank",
            as_str(&u.avatar)
        ),
    );
    w.a("credentials_api3");
    if let Some((client_id, created)) = &u.api3 {
        w.vo();
        w.raw("can", b"{}");
        w.id("id", 100_000 + id);
        w.s("client_id", as_str(client_id));
        w.ts_styled(
            "created_at",
            *created,
            ts_style(d, TS_CREDENTIALS + 10, id, false),
        );
        w.b("is_disabled", false);
        w.s("type", "api3");
        w.s(
            "purpose",
            if id.is_multiple_of(2) {
                "dbt exposures sync"
            } else {
                "Looker → warehouse export 📦"
            },
        );
        w.fmt(
            "url",
            format_args!("{HOST}/api/4.0/users/{id}/credentials_api3/{}", 100_000 + id),
        );
        w.end_o();
    }
    w.end_a();
    w.key("credentials_email");
    if u.service {
        w.vn();
    } else {
        w.vo();
        w.raw("can", br#"{"show_password_reset_url":true}"#);
        w.ts_styled("created_at", u.created, ts_style(d, TS_CREDENTIALS, id, true));
        w.s("email", &email);
        w.b("forced_password_reset_at_next_login", false);
        w.id("user_id", id);
        w.b("is_disabled", u.disabled);
        match u.logged_in {
            Some(t) => w.ts_styled("logged_in_at", t, ts_style(d, TS_LOGIN, id, false)),
            None => w.s("logged_in_at", ""),
        }
        w.n("password_reset_url");
        w.n("account_setup_url");
        w.b("password_reset_url_expired", true);
        w.b("account_setup_url_expired", true);
        w.s("type", "email");
        w.fmt("url", format_args!("{HOST}/api/4.0/users/{id}/credentials_email"));
        w.fmt("user_url", format_args!("{HOST}/api/4.0/users/{id}"));
        w.end_o();
    }
    w.a("credentials_embed");
    w.end_a();
    for k in [
        "credentials_google",
        "credentials_ldap",
        "credentials_looker_openid",
        "credentials_oidc",
        "credentials_saml",
        "credentials_totp",
        "credentials_workforce",
    ] {
        w.n(k);
    }
    if quirk_every(d, id, 13) {
        w.s("display_name", "");
    } else {
        w.s("display_name", &u.display_name());
    }
    w.s("email", &email);
    w.n("embed_group_space_id");
    w.s("first_name", u.first_name());
    w.ids("group_ids", &d.user_groups(id));
    if quirk_every(d, id + 5, 9) {
        w.n("home_folder_id");
    } else {
        w.id("home_folder_id", 1);
    }
    w.id("id", id);
    w.b("is_disabled", u.disabled);
    w.s("last_name", u.last_name());
    if quirk_every(d, id + 6, 11) {
        w.n("locale");
    } else {
        w.s("locale", u.locale);
    }
    w.strs("looker_versions", &vocab::LOOKER_VERSIONS[..u.versions]);
    w.b("models_dir_validated", !id.is_multiple_of(3));
    w.oid("personal_folder_id", d.personal_folder(id));
    w.b("presumed_looker_employee", false);
    w.ids("role_ids", &u.roles[..u.n_roles]);
    w.a("sessions");
    w.end_a();
    w.key("ui_state");
    if u.ui_state {
        w.vraw(br#"{"homepageGroupIdPreference":"1","userHasDismissedTour":true}"#);
    } else {
        w.vn();
    }
    w.b("verified_looker_employee", false);
    w.b("roles_externally_managed", false);
    w.b("allow_direct_roles", true);
    w.b("allow_normal_group_membership", true);
    w.b("allow_roles_from_normal_groups", true);
    w.n("embed_group_folder_id");
    // Instances older than these fields leave them out.
    if !quirk_every(d, id + 1, 3) {
        w.b("is_iam_admin", u.iam_admin);
        w.b("can_manage_api3_creds", u.roles[0] <= 2);
        w.b("is_service_account", u.service);
    }
    if d.revision() > 0 {
        w.b("is_partner", id.is_multiple_of(4));
    }
    if u.service {
        w.fmt("service_account_name", format_args!("svc-etl-{id}"));
    } else {
        w.n("service_account_name");
    }
    w.fmt("url", format_args!("{HOST}/api/4.0/users/{id}"));
    w.end_o();
}

/// Quirks only: true for every `n`-th value of `k` (never for item 1).
fn quirk_every(d: &Dataset, k: u64, n: u64) -> bool {
    d.quirks() && k > 1 && k.is_multiple_of(n)
}

/// A "last viewed" timestamp or null, in the rendering of item `id`.
fn viewed(w: &mut Json<'_, '_>, d: &Dataset, k: &str, tag: u64, id: u64, at: Option<i64>) {
    match at {
        // No epoch digits: the first non-null value may be any item's.
        Some(t) => w.ts_styled(k, t, ts_style(d, tag, id, false)),
        None => w.n(k),
    }
}

// ---------------------------------------------------------------------------------------------
// folders

fn folder_name(d: &Dataset, f: u64) -> String {
    match f {
        1 => "Shared".to_owned(),
        2 => "Users".to_owned(),
        f if f < super::FIRST_PERSONAL_FOLDER => vocab::SHARED_FOLDERS[(f - 3) as usize].to_owned(),
        f => match d.personal_folder_owner(f) {
            Some(u) => user_attrs(d, u).display_name(),
            None => String::new(),
        },
    }
}

fn folder_fields(d: &Dataset, f: u64, w: &mut Json<'_, '_>) {
    let mut r = d.rng(Res::Folders, f);
    let owner = d.personal_folder_owner(f);
    let personal = owner.is_some();
    w.s("name", &folder_name(d, f));
    match f {
        1 | 2 => w.n("parent_id"),
        _ if personal => w.id("parent_id", 2),
        _ => w.id("parent_id", 1),
    }
    w.id("id", f);
    w.id("content_metadata_id", f);
    w.ts_styled(
        "created_at",
        when(&mut r, T0, T0 + 400 * DAY),
        ts_style(d, TS_FOLDER, f, true),
    );
    match (f, owner) {
        (1 | 2, _) => w.n("creator_id"),
        (_, Some(u)) => w.id("creator_id", u),
        _ => {
            let u = d.some_user(&mut r);
            w.id("creator_id", u)
        }
    }
    w.i("child_count", d.child_count(f));
    w.n("external_id");
    w.b("is_embed", false);
    w.b("is_embed_shared_root", false);
    w.b("is_embed_users_root", false);
    w.b("is_personal", personal);
    w.b("is_personal_descendant", false);
    w.b("is_shared_root", f == 1);
    w.b("is_users_root", f == 2);
    w.raw("can", CAN_FOLDER);
}

/// The LookML dashboards root of some instances: id `lookml`, nulls where numbered folders have
/// values, no content.
fn lookml_folder(full: bool, w: &mut Json<'_, '_>) {
    w.vo();
    w.s("name", "LookML Dashboards");
    w.n("parent_id");
    w.s("id", super::LOOKML_FOLDER);
    w.n("content_metadata_id");
    w.n("created_at");
    w.n("creator_id");
    w.i("child_count", 0);
    w.n("external_id");
    w.b("is_embed", false);
    w.b("is_embed_shared_root", false);
    w.b("is_embed_users_root", false);
    w.b("is_personal", false);
    w.b("is_personal_descendant", false);
    w.b("is_shared_root", false);
    w.b("is_users_root", false);
    w.raw("can", br#"{"index":true,"show":true}"#);
    if full {
        w.a("dashboards");
        w.end_a();
        w.a("looks");
        w.end_a();
    }
    w.end_o();
}

fn folder(d: &Dataset, f: u64, full: bool, w: &mut Json<'_, '_>) {
    let (_, _, _, folders) = d.sizes();
    if f > folders {
        lookml_folder(full, w);
        return;
    }
    w.vo();
    folder_fields(d, f, w);
    if full {
        let (_, looks, dashboards, _) = d.sizes();
        w.a("dashboards");
        for dash in d.folder_content(f, dashboards) {
            dashboard(d, dash, false, w);
        }
        w.end_a();
        w.a("looks");
        for l in d.folder_content(f, looks) {
            look(d, l, LookShape::WithDashboards, w);
        }
        w.end_a();
    }
    w.end_o();
}

// ---------------------------------------------------------------------------------------------
// queries

struct QueryA {
    id: u64,
    model: usize,
    fields: Vec<usize>,
    pivot: Option<usize>,
    fill: bool,
    filters: Vec<(usize, usize)>,
    sort_desc: bool,
    limit: &'static str,
    column_limit: bool,
    total: bool,
    row_total: bool,
    vis: usize,
    vis_flags: u64,
    hidden_field: bool,
    filter_config: bool,
    dynamic_fields: bool,
    slug: [u8; 7],
    client_id: [u8; 22],
    tz: &'static str,
    /// Quirks: `filter_config` for every filter, `""` for some null strings.
    quirks: bool,
    /// Quirks from revision 1: the revision and the revision's filter fields this query uses
    /// (indexes below [`Dataset::REVISION_FIELDS`]).
    revision_fields: Option<(u64, [u64; 3])>,
}

/// The name of filter field `k` that revision `revision` adds (quirks).
fn revision_field(revision: u64, k: u64) -> String {
    format!("custom_r{revision}.dimension_{k:02}")
}

fn query_model(d: &Dataset, qid: u64) -> usize {
    let mut r = d.rng(Res::Queries, qid);
    model_of(&mut r)
}

fn model_of(r: &mut Rng) -> usize {
    match r.below(10) {
        0..=5 => 0,
        6..=7 => 1,
        _ => 2,
    }
}

fn query_attrs(d: &Dataset, qid: u64) -> QueryA {
    let mut r = d.rng(Res::Queries, qid);
    let model = model_of(&mut r);
    let m = &MODELS[model];
    let nf = m.fields.len();
    let mut fields = vec![0];
    for _ in 0..1 + r.below(3) {
        let f = 1 + r.idx(nf - 1);
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    let pivot = (r.chance(15) && fields.len() > 2).then(|| fields[fields.len() - 1]);
    let mut filters = vec![(0, r.idx(m.filter_values[0].len()))];
    if r.chance(50) {
        let f = 1 + r.idx(nf - 1);
        filters.push((f, r.idx(m.filter_values[f].len())));
    }
    QueryA {
        id: qid,
        model,
        fields,
        pivot,
        fill: r.chance(20),
        filters,
        sort_desc: r.chance(70),
        limit: r.pick(&["500", "500", "5000", "1000", ""]),
        column_limit: r.chance(60),
        total: r.chance(30),
        row_total: r.chance(10),
        vis: r.idx(vocab::VIS_TYPES.len()),
        vis_flags: r.next(),
        hidden_field: r.chance(10),
        filter_config: model == 0 && r.chance(40),
        dynamic_fields: r.chance(15),
        slug: r.token(),
        client_id: r.token(),
        tz: r.pick(vocab::TIMEZONES),
        quirks: d.quirks(),
        revision_fields: (d.quirks() && d.revision() > 0).then(|| {
            let n = super::Dataset::REVISION_FIELDS;
            let first = qid * 3 % n;
            (d.revision(), [first, (first + 1) % n, (first + 2) % n])
        }),
    }
}

impl QueryA {
    fn explore_url(&self) -> String {
        let m = &MODELS[self.model];
        let mut url = format!("/explore/{}/{}?fields=", m.name, m.explore);
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                url.push(',');
            }
            url.push_str(m.fields[*f]);
        }
        if let Some(p) = self.pivot {
            url.push_str("&pivots=");
            url.push_str(m.fields[p]);
        }
        for (f, v) in &self.filters {
            url.push_str("&f[");
            url.push_str(m.fields[*f]);
            url.push_str("]=");
            url.push_str(&m.filter_values[*f][*v].replace(' ', "+"));
        }
        url.push_str("&sorts=");
        url.push_str(m.fields[0]);
        if self.sort_desc {
            url.push_str("+desc");
        }
        if !self.limit.is_empty() {
            url.push_str("&limit=");
            url.push_str(self.limit);
        }
        if self.column_limit {
            url.push_str("&column_limit=50");
        }
        url
    }
}

fn vis_config(q: &QueryA, w: &mut Json<'_, '_>) {
    let m = &MODELS[q.model];
    let flag = |bit: u32| q.vis_flags >> bit & 1 == 1;
    w.vo();
    w.s("type", vocab::VIS_TYPES[q.vis]);
    w.b("show_value_labels", flag(0));
    w.s("stacking", if flag(1) { "normal" } else { "" });
    w.b("x_axis_gridlines", flag(2));
    w.b("y_axis_gridlines", flag(3));
    w.s("legend_position", if flag(4) { "center" } else { "right" });
    w.s("point_style", if flag(5) { "circle" } else { "none" });
    w.s("interpolation", if flag(6) { "monotone" } else { "linear" });
    w.a("hidden_fields");
    if q.hidden_field {
        w.vs(m.fields[q.fields[q.fields.len() - 1]]);
    }
    w.end_a();
    w.end_o();
}

fn query_body(q: &QueryA, w: &mut Json<'_, '_>) {
    let m = &MODELS[q.model];
    w.vo();
    w.raw("can", CAN_QUERY);
    w.id("id", q.id);
    w.s("model", m.name);
    w.s("view", m.explore);
    w.a("fields");
    for f in &q.fields {
        w.vs(m.fields[*f]);
    }
    w.end_a();
    w.a("pivots");
    if let Some(p) = q.pivot {
        w.vs(m.fields[p]);
    }
    w.end_a();
    w.a("fill_fields");
    if q.fill {
        w.vs(m.fields[0]);
    }
    w.end_a();
    w.o("filters");
    for (f, v) in &q.filters {
        w.s(m.fields[*f], m.filter_values[*f][*v]);
    }
    if let Some((rev, fields)) = q.revision_fields {
        for k in fields {
            w.s(&revision_field(rev, k), "-NULL");
        }
    }
    w.end_o();
    if q.quirks && q.id.is_multiple_of(4) {
        w.s("filter_expression", "");
    } else {
        w.n("filter_expression");
    }
    w.a("sorts");
    w.vfmt(format_args!(
        "{}{}",
        m.fields[0],
        if q.sort_desc { " desc" } else { "" }
    ));
    w.end_a();
    w.s("limit", q.limit);
    if q.column_limit {
        w.s("column_limit", "50");
    } else {
        w.n("column_limit");
    }
    w.b("total", q.total);
    if q.row_total {
        w.s("row_total", "right");
    } else if q.quirks && q.id.is_multiple_of(3) {
        w.s("row_total", "");
    } else {
        w.n("row_total");
    }
    w.n("subtotals");
    w.key("vis_config");
    vis_config(q, w);
    w.key("filter_config");
    if q.quirks {
        filter_config(q, w);
    } else if q.filter_config {
        // Field name -> list of condition objects, as real instances send it.
        let (_, v) = q.filters[0];
        w.vo();
        w.a(m.fields[0]);
        w.vo();
        w.s("type", "past");
        w.a("values");
        w.vo();
        w.s("constant", if v % 2 == 0 { "30" } else { "7" });
        w.s("unit", "day");
        w.end_o();
        w.end_a();
        w.i("id", (q.id % 97) as i64);
        w.end_o();
        w.end_a();
        w.end_o();
    } else {
        w.vn();
    }
    w.n("visible_ui_sections");
    w.s("slug", as_str(&q.slug));
    if q.dynamic_fields {
        w.fmt(
            "dynamic_fields",
            format_args!(
                r#"[{{"category":"table_calculation","expression":"${{{f}}} / sum(${{{f}}})","label":"% of total","table_calculation":"pct_of_total","_kind_hint":"measure","_type_hint":"number"}}]"#,
                f = m.fields[q.fields[q.fields.len() - 1]]
            ),
        );
    } else if q.quirks && q.id.is_multiple_of(5) {
        w.s("dynamic_fields", "");
    } else {
        w.n("dynamic_fields");
    }
    let client_id = as_str(&q.client_id);
    w.s("client_id", client_id);
    w.fmt("share_url", format_args!("{HOST}/x/{client_id}"));
    let url = q.explore_url();
    w.fmt(
        "expanded_share_url",
        format_args!("{HOST}{url}&origin=share-expanded"),
    );
    w.s("url", &url);
    w.s("query_timezone", q.tz);
    w.b("has_table_calculations", q.dynamic_fields);
    w.end_o();
}

/// One condition object of a `filter_config` entry, as real instances send it.
fn filter_condition(w: &mut Json<'_, '_>, kind: &str, constant: &str, unit: &str, id: i64) {
    w.vo();
    w.s("type", kind);
    w.a("values");
    w.vo();
    w.s("constant", constant);
    w.s("unit", unit);
    w.end_o();
    w.end_a();
    w.i("id", id);
    w.end_o();
}

/// Quirks: `filter_config` keyed by every filter's LookML field name.
fn filter_config(q: &QueryA, w: &mut Json<'_, '_>) {
    let m = &MODELS[q.model];
    w.vo();
    for (i, (f, v)) in q.filters.iter().enumerate() {
        w.a(m.fields[*f]);
        let constant = if v % 2 == 0 { "30" } else { "7" };
        filter_condition(w, "past", constant, "day", (q.id % 97) as i64 + i as i64);
        w.end_a();
    }
    if let Some((rev, fields)) = q.revision_fields {
        for k in fields {
            w.a(&revision_field(rev, k));
            filter_condition(w, "null", "", "", k as i64);
            w.end_a();
        }
    }
    w.end_o();
}

fn query(d: &Dataset, qid: u64, w: &mut Json<'_, '_>) {
    query_body(&query_attrs(d, qid), w);
}

// ---------------------------------------------------------------------------------------------
// looks

#[derive(Clone, Copy, PartialEq, Eq)]
enum LookShape {
    Look,
    WithQuery,
    WithDashboards,
}

struct LookA {
    /// The revision that last edited the title, if any.
    retitled: Option<u64>,
    metric: usize,
    dim: usize,
    description: Option<usize>,
    owner: u64,
    updater: u64,
    created: i64,
    updated: i64,
    last_viewed: Option<i64>,
    views: i64,
    favorites: i64,
    public: bool,
    run_on_load: bool,
    certified: Option<i64>,
    favorite_id: Option<u64>,
    public_slug: [u8; 14],
}

fn look_attrs(d: &Dataset, id: u64) -> LookA {
    let mut r = d.rng(Res::Looks, id);
    let created = when(&mut r, T0, T_NOW - 60 * DAY);
    let updated = when(&mut r, created, T_NOW);
    let owner = d.some_user(&mut r);
    let retitled = (d.revision() > 0 && id.is_multiple_of(LOOKS_PER_RETITLE)).then(|| d.revision());
    let mut a = LookA {
        retitled,
        metric: r.idx(vocab::METRICS.len()),
        dim: r.idx(vocab::DIMENSIONS.len()),
        description: match r.below(10) {
            0..=2 => None,
            3 => Some(usize::MAX),
            _ => Some(r.idx(vocab::DESCRIPTIONS.len())),
        },
        owner,
        updater: if r.chance(70) { owner } else { d.some_user(&mut r) },
        created,
        updated,
        last_viewed: r.chance(80).then(|| when(&mut r, updated, T_NOW)),
        views: r.below(2000) as i64,
        favorites: r.below(25) as i64,
        public: r.chance(5),
        run_on_load: r.chance(60),
        certified: r.chance(10).then(|| when(&mut r, updated, T_NOW)),
        favorite_id: r.chance(20).then(|| 50_000 + id),
        public_slug: r.token(),
    };
    // An edit bumps `updated_at` past the base data's "now", an hour per revision; every other
    // attribute stays as drawn for revision 0.
    if let Some(rev) = retitled {
        a.updated = T_NOW + rev as i64 * 3600;
    }
    a
}

impl LookA {
    fn title(&self) -> String {
        match self.retitled {
            None => format!("{} {}", vocab::METRICS[self.metric], vocab::DIMENSIONS[self.dim]),
            Some(rev) => format!(
                "{} {} (v{})",
                vocab::METRICS[self.metric],
                vocab::DIMENSIONS[self.dim],
                rev + 1
            ),
        }
    }
}

fn certification(w: &mut Json<'_, '_>, d: &Dataset, at: Option<i64>, by: u64) {
    w.key("certification_metadata");
    match at {
        None => w.vn(),
        Some(t) => {
            w.vo();
            w.s("certification_status", "certified");
            w.n("ui_status");
            w.s("user_name", &user_attrs(d, by).display_name());
            w.s("notes", "Reviewed by BI team ✔");
            w.ts("updated_at", t);
            w.end_o();
        }
    }
}

fn look(d: &Dataset, id: u64, shape: LookShape, w: &mut Json<'_, '_>) {
    let a = look_attrs(d, id);
    let (_, _, _, folders) = d.sizes();
    let qid = d.look_qid(id);
    let model = &MODELS[query_model(d, qid)];
    let folder_id = d.content_folder(id);
    let slug = as_str(&a.public_slug);
    w.vo();
    w.raw("can", CAN_LOOK);
    w.id("content_metadata_id", folders + id);
    w.id("id", id);
    w.s("title", &a.title());
    w.id("user_id", a.owner);
    certification(w, d, a.certified, a.updater);
    w.oid("content_favorite_id", a.favorite_id);
    w.ts_styled("created_at", a.created, ts_style(d, TS_CONTENT, id, true));
    w.b("deleted", false);
    w.n("deleted_at");
    w.n("deleter_id");
    match a.description {
        None => w.n("description"),
        Some(usize::MAX) => w.s("description", ""),
        Some(i) => w.s("description", vocab::DESCRIPTIONS[i]),
    }
    w.fmt("embed_url", format_args!("{HOST}/embed/looks/{id}"));
    w.fmt("excel_file_url", format_args!("{HOST}/looks/{id}.xlsx"));
    w.i("favorite_count", a.favorites);
    w.fmt(
        "google_spreadsheet_formula",
        format_args!("=IMPORTDATA(\"{HOST}/looks/{slug}.csv?apply_formatting=true\")"),
    );
    w.fmt("image_embed_url", format_args!("{HOST}/embed/looks/{id}.png"));
    w.b("is_run_on_load", a.run_on_load);
    viewed(w, d, "last_accessed_at", TS_VIEWED, id, a.last_viewed);
    w.id("last_updater_id", a.updater);
    viewed(w, d, "last_viewed_at", TS_VIEWED, id, a.last_viewed);
    w.o("model");
    w.s("id", model.name);
    w.s("label", model.label);
    w.end_o();
    w.b("public", a.public);
    w.s("public_slug", slug);
    w.fmt("public_url", format_args!("{HOST}/looks/{slug}"));
    w.id("query_id", qid);
    w.fmt("short_url", format_args!("/looks/{id}"));
    w.key("folder");
    w.vo();
    folder_fields(d, folder_id, w);
    w.end_o();
    w.id("folder_id", folder_id);
    w.ts("updated_at", a.updated);
    w.s("user_name", &user_attrs(d, a.owner).display_name());
    w.i("view_count", a.views);
    w.i("usage_count", a.views / 5);
    w.b("is_owner_disabled", user_attrs(d, a.owner).disabled);
    match shape {
        LookShape::Look => {}
        LookShape::WithQuery => {
            w.key("query");
            query(d, qid, w);
            w.fmt("url", format_args!("/looks/{id}"));
        }
        LookShape::WithDashboards => {
            w.a("dashboards");
            w.end_a();
        }
    }
    w.end_o();
}

// ---------------------------------------------------------------------------------------------
// dashboards

struct DashA {
    id: u64,
    metric: usize,
    dim: usize,
    description: Option<usize>,
    owner: u64,
    updater: u64,
    created: i64,
    updated: i64,
    last_viewed: Option<i64>,
    views: i64,
    favorites: i64,
    hidden: bool,
    refresh: bool,
    tz: &'static str,
    certified: Option<i64>,
    favorite_id: Option<u64>,
    slug: [u8; 22],
    filters: u64,
    crossfilter: bool,
}

fn dash_attrs(d: &Dataset, id: u64) -> DashA {
    let mut r = d.rng(Res::Dashboards, id);
    let created = when(&mut r, T0, T_NOW - 60 * DAY);
    let updated = when(&mut r, created, T_NOW);
    let owner = d.some_user(&mut r);
    DashA {
        id,
        metric: r.idx(vocab::METRICS.len()),
        dim: r.idx(vocab::DIMENSIONS.len()),
        description: match r.below(10) {
            0..=2 => None,
            3 => Some(usize::MAX),
            _ => Some(r.idx(vocab::DESCRIPTIONS.len())),
        },
        owner,
        updater: if r.chance(70) { owner } else { d.some_user(&mut r) },
        created,
        updated,
        last_viewed: r.chance(85).then(|| when(&mut r, updated, T_NOW)),
        views: r.below(5000) as i64,
        favorites: r.below(40) as i64,
        hidden: r.chance(3),
        refresh: r.chance(20),
        tz: r.pick(vocab::TIMEZONES),
        certified: r.chance(10).then(|| when(&mut r, updated, T_NOW)),
        favorite_id: r.chance(20).then(|| 80_000 + id),
        slug: r.token(),
        filters: r.below(4),
        crossfilter: r.chance(50),
    }
}

impl DashA {
    fn title(&self) -> String {
        format!(
            "{} {} — Dashboard",
            vocab::METRICS[self.metric],
            vocab::DIMENSIONS[self.dim]
        )
    }
}

/// The dashboard filters a dashboard may carry: (name, model, explore, dimension, default, label,
/// field type, timeframe, ui type, ui display).
/// (name, model, explore, dimension, default, label, field type, timeframe, ui type, ui display)
type DashFilter = (
    &'static str,
    usize,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static str,
);

const DASH_FILTERS: &[DashFilter] = &[
    (
        "Date",
        0,
        "order_items",
        "orders.created_date",
        "30 days",
        "Orders Created Date",
        "date_date",
        true,
        "relative_timeframes",
        "inline",
    ),
    (
        "Country",
        0,
        "order_items",
        "users.country",
        "USA",
        "Users Country",
        "string",
        false,
        "tag_list",
        "popover",
    ),
    (
        "Posted Date",
        1,
        "ledger",
        "ledger.posted_date",
        "this year",
        "Ledger Posted Date",
        "date_date",
        true,
        "day_range_picker",
        "inline",
    ),
];

fn dash_filter_list(a: &DashA) -> impl Iterator<Item = usize> {
    // 0..=3 → none, Date, Date+Country, Posted Date
    let list: &[usize] = match a.filters {
        0 => &[],
        1 => &[0],
        2 => &[0, 1],
        _ => &[2],
    };
    list.iter().copied()
}

fn dashboard(d: &Dataset, id: u64, full: bool, w: &mut Json<'_, '_>) {
    let a = dash_attrs(d, id);
    let (_, looks, _, folders) = d.sizes();
    let folder_id = d.content_folder(id);
    let title = a.title();
    w.vo();
    w.raw("can", CAN_DASHBOARD);
    w.oid("content_favorite_id", a.favorite_id);
    w.id("content_metadata_id", folders + looks + id);
    match a.description {
        None => w.n("description"),
        Some(usize::MAX) => w.s("description", ""),
        Some(i) => w.s("description", vocab::DESCRIPTIONS[i]),
    }
    w.b("hidden", a.hidden);
    w.id("id", id);
    w.n("model");
    w.s("query_timezone", a.tz);
    w.b("readonly", false);
    if a.refresh {
        w.s("refresh_interval", "1 hour");
        w.i("refresh_interval_to_i", 3_600_000);
    } else {
        w.n("refresh_interval");
        w.n("refresh_interval_to_i");
    }
    w.key("folder");
    w.vo();
    folder_fields(d, folder_id, w);
    w.end_o();
    w.s("title", &title);
    w.id("user_id", a.owner);
    w.s("slug", as_str(&a.slug));
    w.s("preferred_viewer", "dashboards-next");
    certification(w, d, a.certified, a.updater);
    if !full {
        w.end_o();
        return;
    }
    let owner_name = user_attrs(d, a.owner).display_name();
    w.b("alert_sync_with_dashboard_filter_enabled", false);
    w.b("chat_enabled", false);
    w.n("background_color");
    w.ts_styled("created_at", a.created, ts_style(d, TS_CONTENT + 10, id, true));
    w.b("crossfilter_enabled", a.crossfilter);
    let elements = d.elements(id);
    w.a("dashboard_elements");
    for (e, el) in elements.iter().enumerate() {
        element(d, &a, e as u64, *el, w);
    }
    w.end_a();
    w.a("dashboard_filters");
    for (row, f) in dash_filter_list(&a).enumerate() {
        let (name, model, explore, dim, default, label, ftype, timeframe, ui_type, display) = DASH_FILTERS[f];
        w.vo();
        w.raw("can", CAN_ELEMENT);
        w.id("id", id * 10 + f as u64);
        w.id("dashboard_id", id);
        w.s("name", name);
        w.s("title", name);
        w.s("type", "field_filter");
        w.s("default_value", default);
        w.s("model", MODELS[model].name);
        w.s("explore", explore);
        w.s("dimension", dim);
        w.o("field");
        w.s("name", dim);
        w.s("label", label);
        w.s("type", ftype);
        w.s("view", dim.split('.').next().unwrap_or(dim));
        w.s("category", "dimension");
        w.b("is_timeframe", timeframe);
        w.end_o();
        w.i("row", row as i64);
        w.a("listens_to_filters");
        if f == 1 {
            w.vs("Date");
        }
        w.end_a();
        w.b("allow_multiple_values", true);
        w.b("required", false);
        w.o("ui_config");
        w.s("type", ui_type);
        w.s("display", display);
        w.a("options");
        w.end_a();
        w.end_o();
        w.end_o();
    }
    w.end_a();
    w.a("dashboard_layouts");
    w.vo();
    w.raw("can", CAN_ELEMENT);
    w.id("id", id);
    w.id("dashboard_id", id);
    w.s("type", "newspaper");
    w.b("active", true);
    w.n("column_width");
    w.n("width");
    w.b("deleted", false);
    w.s("dashboard_title", &title);
    w.a("dashboard_layout_components");
    for (e, el) in elements.iter().enumerate() {
        let e = e as u64;
        let (row, col, width) = ((e / 3) * 6, (e % 3) * 8, 8);
        w.vo();
        w.raw("can", CAN_COMPONENT);
        w.id("id", id * 10 + e);
        w.id("dashboard_layout_id", id);
        w.id("dashboard_element_id", id * 10 + e);
        w.i("row", row as i64);
        w.i("column", col as i64);
        w.i("width", width);
        w.i("height", 6);
        w.b("deleted", false);
        match el {
            Element::Text => w.n("element_title"),
            Element::LookTile(l) => w.s("element_title", &look_attrs(d, *l).title()),
            Element::Vis => w.fmt("element_title", format_args!("Tile {}", e + 1)),
        }
        w.b("element_title_hidden", false);
        match el {
            Element::Text => w.s("vis_type", "text"),
            Element::LookTile(l) => {
                let q = query_attrs(d, d.look_qid(*l));
                w.s("vis_type", vocab::VIS_TYPES[q.vis]);
            }
            Element::Vis => {
                let q = query_attrs(d, d.element_qid(id, e));
                w.s("vis_type", vocab::VIS_TYPES[q.vis]);
            }
        }
        w.i("granular_row", row as i64 * 4);
        w.i("granular_column", col as i64 * 4);
        w.i("granular_width", width * 4);
        w.i("granular_height", 24);
        w.end_o();
    }
    w.end_a();
    w.n("label");
    w.n("description");
    w.i("order", 0);
    w.n("lookml_link_id");
    w.end_o();
    w.end_a();
    w.b("deleted", false);
    w.n("deleted_at");
    w.n("deleter_id");
    w.n("edit_uri");
    w.b("enable_viz_full_screen", true);
    w.i("favorite_count", a.favorites);
    w.b("filters_bar_collapsed", false);
    w.b("filters_location_top", true);
    viewed(w, d, "last_accessed_at", TS_VIEWED + 10, id, a.last_viewed);
    viewed(w, d, "last_viewed_at", TS_VIEWED + 10, id, a.last_viewed);
    w.ts("updated_at", a.updated);
    w.id("last_updater_id", a.updater);
    w.s("last_updater_name", &user_attrs(d, a.updater).display_name());
    w.s("user_name", &owner_name);
    w.s("load_configuration", "wait");
    w.n("lookml_link_id");
    w.b("show_filters_bar", true);
    w.b("show_title", true);
    w.id("folder_id", folder_id);
    w.n("text_tile_text_color");
    w.n("tile_background_color");
    w.n("tile_text_color");
    w.n("title_color");
    w.i("view_count", a.views);
    w.o("appearance");
    w.n("page_side_margins");
    w.n("page_background_color");
    w.s("tile_title_alignment", "left");
    w.n("tile_space_between");
    w.n("tile_background_color");
    w.b("tile_shadow", true);
    w.n("key_color");
    w.n("modern_vis2026");
    w.end_o();
    w.i("usage_count", a.views / 4);
    w.b("is_owner_disabled", user_attrs(d, a.owner).disabled);
    w.fmt("url", format_args!("/dashboards/{id}"));
    w.b("preserve_desktop_layout", false);
    w.n("download_settings");
    w.end_o();
}

fn element(d: &Dataset, dash: &DashA, e: u64, el: Element, w: &mut Json<'_, '_>) {
    let id = dash.id * 10 + e;
    let qid = match el {
        Element::Vis => Some(d.element_qid(dash.id, e)),
        Element::LookTile(l) => Some(d.look_qid(l)),
        Element::Text => None,
    };
    let q = qid.map(|q| query_attrs(d, q));
    w.vo();
    w.raw("can", CAN_ELEMENT);
    if el == Element::Text {
        w.s("body_text", "Numbers refresh nightly at 02:00 UTC.");
        w.s(
            "body_text_as_html",
            "<p>Numbers refresh nightly at 02:00 UTC.</p>",
        );
    } else {
        w.n("body_text");
        w.n("body_text_as_html");
    }
    w.id("dashboard_id", dash.id);
    w.n("dashboard_layout_id");
    w.n("edit_uri");
    w.id("id", id);
    match el {
        Element::LookTile(l) => {
            w.key("look");
            look(d, l, LookShape::WithQuery, w);
            w.id("look_id", l);
        }
        _ => {
            w.n("look");
            w.n("look_id");
        }
    }
    w.n("lookml_link_id");
    w.n("merge_result_id");
    w.n("note_display");
    w.n("note_state");
    w.n("note_text");
    w.n("note_text_as_html");
    w.key("query");
    match &q {
        Some(q) => query_body(q, w),
        None => w.vn(),
    }
    w.oid("query_id", qid);
    w.n("filter_id");
    w.n("refresh_interval");
    w.n("refresh_interval_to_i");
    w.key("result_maker");
    match &q {
        None => w.vn(),
        Some(q) => {
            let m = &MODELS[q.model];
            w.vo();
            w.id("id", id);
            w.n("dynamic_fields");
            w.a("filterables");
            w.vo();
            w.s("model", m.name);
            w.s("view", m.explore);
            w.n("name");
            w.a("listen");
            for f in dash_filter_list(dash) {
                let (name, model, _, dim, ..) = DASH_FILTERS[f];
                if model == q.model {
                    w.vo();
                    w.s("dashboard_filter_name", name);
                    w.s("field", dim);
                    w.end_o();
                }
            }
            w.end_a();
            w.end_o();
            w.end_a();
            w.a("sorts");
            w.vfmt(format_args!(
                "{}{}",
                m.fields[0],
                if q.sort_desc { " desc" } else { "" }
            ));
            w.end_a();
            w.n("merge_result_id");
            w.b("total", q.total);
            w.id("query_id", q.id);
            w.n("sql_query_id");
            w.key("query");
            query_body(q, w);
            w.key("vis_config");
            vis_config(q, w);
            w.end_o();
        }
    }
    match qid {
        Some(_) => w.id("result_maker_id", id),
        None => w.n("result_maker_id"),
    }
    w.n("subtitle_text");
    match el {
        Element::Text => w.n("title"),
        Element::LookTile(l) => w.s("title", &look_attrs(d, l).title()),
        Element::Vis => w.fmt("title", format_args!("Tile {}", e + 1)),
    }
    w.b("title_hidden", false);
    if el == Element::Text {
        w.s("title_text", "About this dashboard ℹ️");
        w.s("type", "text");
    } else {
        w.n("title_text");
        w.s("type", "vis");
    }
    w.i("alert_count", 0);
    w.n("rich_content_json");
    if el == Element::Text {
        w.s("title_text_as_html", "<p>About this dashboard ℹ️</p>");
    } else {
        w.n("title_text_as_html");
    }
    w.n("subtitle_text_as_html");
    w.n("extension_id");
    w.n("aria_description");
    w.n("certification_metadata");
    w.end_o();
}

// ---------------------------------------------------------------------------------------------
// scheduled plans

const CRONTABS: &[&str] = &[
    "0 7 * * 1",
    "0 6 * * *",
    "30 8 1 * *",
    "0 */4 * * *",
    "15 9 * * 1-5",
];

fn plan(d: &Dataset, id: u64, w: &mut Json<'_, '_>) {
    let mut r = d.rng(Res::ScheduledPlans, id);
    let _owner_draw = r.next();
    let owner = d.plan_owner(id);
    let u = user_attrs(d, owner);
    let target = d.plan_target(id);
    let created = when(&mut r, T0 + 200 * DAY, T_NOW - 30 * DAY);
    let updated = when(&mut r, created, T_NOW);
    let enabled = r.chance(85);
    let last_run = (enabled && r.chance(90)).then(|| T_NOW - r.below(7) as i64 * DAY + 7 * 3600);
    let crontab = r.pick(CRONTABS);
    let tz = r.pick(vocab::TIMEZONES);
    let n_dest = 1 + r.below(2);
    let title = match target {
        PlanTarget::Look(l) => Some(look_attrs(d, l).title()),
        PlanTarget::Dashboard(x) => Some(dash_attrs(d, x).title()),
        PlanTarget::Query(_) => None,
    };
    w.vo();
    match &title {
        Some(t) => w.fmt("name", format_args!("Weekly {t}")),
        None => w.fmt("name", format_args!("Query export #{id}")),
    }
    w.id("user_id", owner);
    w.b("run_as_recipient", false);
    w.b("enabled", enabled);
    match target {
        PlanTarget::Look(l) => w.id("look_id", l),
        _ => w.n("look_id"),
    }
    match target {
        PlanTarget::Dashboard(x) => w.id("dashboard_id", x),
        _ => w.n("dashboard_id"),
    }
    w.n("lookml_dashboard_id");
    match target {
        PlanTarget::Dashboard(_) => w.s("filters_string", "?Date=7+days"),
        _ => w.n("filters_string"),
    }
    w.n("dashboard_filters");
    w.b("require_results", false);
    w.b("require_no_results", false);
    w.b("require_change", false);
    w.b("send_all_results", matches!(target, PlanTarget::Query(_)));
    w.s("crontab", crontab);
    w.n("datagroup");
    w.s("timezone", tz);
    w.a("scheduled_plan_destination");
    for k in 0..n_dest {
        let kind = (id + k) % 3;
        w.vo();
        w.id("id", id * 2 + k);
        w.id("scheduled_plan_id", id);
        w.s("format", ["wysiwyg_pdf", "csv", "json_detail"][kind as usize]);
        w.b("apply_formatting", true);
        w.b("apply_vis", kind == 0);
        match kind {
            0 => w.s("address", "sales-leads@acme.com"),
            1 => w.s("address", "https://hooks.acme.com/looker/ingest"),
            _ => w.s("address", "s3://acme-looker-exports/schedules"),
        }
        w.b("looker_recipient", false);
        w.s("type", ["email", "webhook", "s3"][kind as usize]);
        match kind {
            2 => w.s(
                "parameters",
                r#"{"region":"us-east-1","access_key_id":"AKIAEXAMPLE"}"#,
            ),
            _ => w.n("parameters"),
        }
        w.n("secret_parameters");
        match kind {
            0 => w.s("message", "Weekly numbers attached. Bonne lecture 📊"),
            _ => w.n("message"),
        }
        w.end_o();
    }
    w.end_a();
    w.b("run_once", false);
    w.b("include_links", true);
    w.b("include_dashboard_summary", false);
    w.n("custom_url_base");
    w.n("custom_url_params");
    w.n("custom_url_label");
    w.b("show_custom_url", false);
    w.s("pdf_paper_size", "letter");
    w.b("pdf_landscape", true);
    w.b("embed", false);
    w.n("color_theme");
    w.b("long_tables", false);
    w.b("pdf_page_breaks", false);
    w.n("tab_ids");
    w.n("inline_table_width");
    match target {
        PlanTarget::Query(q) => w.id("query_id", q),
        _ => w.n("query_id"),
    }
    w.id("id", id);
    w.ts_styled("created_at", created, ts_style(d, TS_PLAN, id, true));
    w.ts("updated_at", updated);
    w.os("title", title.as_deref());
    w.o("user");
    w.raw("can", b"{}");
    w.id("id", owner);
    w.s("first_name", u.first_name());
    w.s("last_name", u.last_name());
    w.s("display_name", &u.display_name());
    avatar_url(w, &u);
    w.fmt("url", format_args!("{HOST}/api/4.0/users/{owner}"));
    w.end_o();
    if enabled {
        w.ts("next_run_at", T_NOW + 7 * 3600 + (id % 7) as i64 * DAY);
    } else {
        w.n("next_run_at");
    }
    w.ots("last_run_at", last_run);
    w.raw("can", CAN_PLAN);
    w.end_o();
}

// ---------------------------------------------------------------------------------------------
// small fixed resources

fn project(d: &Dataset, index: usize, w: &mut Json<'_, '_>) {
    let (name, remote) = vocab::PROJECTS[index];
    let git = !remote.is_empty();
    w.vo();
    w.raw("can", CAN_PROJECT);
    w.s("id", name);
    w.s("name", name);
    w.b("uses_git", git);
    w.b("is_git_dev_locked", false);
    w.s("git_remote_url", remote);
    if d.quirks() && index % 2 == 1 {
        w.s("git_username", "");
    } else {
        w.n("git_username");
    }
    w.n("git_password");
    w.s("git_production_branch_name", if git { "main" } else { "master" });
    w.b("use_git_cookie_auth", false);
    w.n("git_username_user_attribute");
    w.n("git_password_user_attribute");
    w.s(
        "git_service_name",
        if remote.contains("github") {
            "github"
        } else if remote.contains("gitlab") {
            "gitlab"
        } else {
            "bare"
        },
    );
    w.n("git_application_server_http_port");
    w.n("git_application_server_http_scheme");
    w.n("deploy_secret");
    w.b("unset_deploy_secret", false);
    w.s(
        "pull_request_mode",
        ["recommended", "required", "links", "off"][index % 4],
    );
    w.b("validation_required", index != 3);
    w.b("git_release_mgmt_enabled", false);
    w.b("allow_warnings", true);
    w.b("is_example", false);
    w.b("has_production_counterpart", git);
    w.n("dependency_status");
    w.end_o();
}

fn group(d: &Dataset, id: u64, w: &mut Json<'_, '_>) {
    let external = id > 2 && id.is_multiple_of(3);
    w.vo();
    w.raw("can", CAN_GROUP);
    w.b("can_add_to_content_metadata", true);
    w.b("contains_current_user", id == 1 || d.user_groups(1).contains(&id));
    if external {
        w.fmt("external_group_id", format_args!("okta-grp-{id:05}"));
    } else {
        w.n("external_group_id");
    }
    w.b("externally_managed", external);
    w.id("id", id);
    w.b("include_by_default", id == 1);
    if id == 1 {
        w.s("name", "All Users");
    } else {
        let k = (id - 2) as usize;
        let n = vocab::GROUP_NAMES.len();
        if k < n {
            w.s("name", vocab::GROUP_NAMES[k]);
        } else {
            w.fmt(
                "name",
                format_args!("{} {}", vocab::GROUP_NAMES[k % n], k / n + 1),
            );
        }
    }
    w.i("user_count", d.group_size(id) as i64);
    w.end_o();
}

fn set_id(index: usize, name_of: impl Fn(&vocab::RoleDef) -> &'static str) -> usize {
    let name = name_of(&vocab::ROLES[index]);
    let mut seen: Vec<&str> = Vec::new();
    for r in vocab::ROLES {
        let n = name_of(r);
        if !seen.contains(&n) {
            seen.push(n);
        }
        if n == name {
            break;
        }
    }
    seen.len()
}

fn role(index: usize, w: &mut Json<'_, '_>) {
    let r = &vocab::ROLES[index];
    let id = index + 1;
    let ps = set_id(index, |r| r.permission_set);
    let ms = set_id(index, |r| r.model_set);
    w.vo();
    w.raw("can", CAN_COMPONENT);
    w.id("id", id as u64);
    w.s("name", r.name);
    w.o("permission_set");
    w.raw("can", CAN_COMPONENT);
    w.b("all_access", r.all_access);
    w.b("built_in", ps <= 4);
    w.id("id", ps as u64);
    w.s("name", r.permission_set);
    w.strs("permissions", r.permissions);
    w.fmt("url", format_args!("{HOST}/api/4.0/permission_sets/{ps}"));
    w.end_o();
    w.n("permission_set_id");
    w.o("model_set");
    w.raw("can", CAN_COMPONENT);
    w.b("all_access", r.model_set == "All");
    w.b("built_in", r.model_set == "All");
    w.id("id", ms as u64);
    w.strs("models", r.models);
    w.s("name", r.model_set);
    w.fmt("url", format_args!("{HOST}/api/4.0/model_sets/{ms}"));
    w.end_o();
    w.n("model_set_id");
    w.b("internal", false);
    w.fmt("url", format_args!("{HOST}/api/4.0/roles/{id}"));
    w.fmt("users_url", format_args!("{HOST}/api/4.0/roles/{id}/users"));
    w.end_o();
}

fn lookml_model(index: usize, w: &mut Json<'_, '_>) {
    let m = &vocab::LOOKML_MODELS[index];
    w.vo();
    w.raw("can", CAN_MODEL);
    w.strs("allowed_db_connection_names", &[m.connection]);
    w.a("explores");
    for (name, label, description, hidden) in m.explores {
        w.vo();
        w.s("name", name);
        w.os("description", *description);
        w.s("label", label);
        w.b("hidden", *hidden);
        w.s("group_label", m.label);
        w.end_o();
    }
    w.end_a();
    w.b("has_content", m.has_content);
    w.s("label", m.label);
    w.s("name", m.name);
    w.s("project_name", m.project);
    w.b("unlimited_db_connections", false);
    w.end_o();
}

fn user_attribute(index: usize, w: &mut Json<'_, '_>) {
    let (name, label, ty, default, system) = vocab::USER_ATTRIBUTES[index];
    w.vo();
    w.raw("can", CAN_USER_ATTRIBUTE);
    w.id("id", index as u64 + 1);
    w.s("name", name);
    w.s("label", label);
    w.s("type", ty);
    w.os("default_value", default);
    w.b("is_system", system);
    w.b("is_permanent", system && index < 5);
    w.b("value_is_hidden", name == "can_see_pii");
    w.b("user_can_view", true);
    w.b("user_can_edit", name == "locale" || name == "number_format");
    w.n("hidden_value_domain_whitelist");
    w.b("needed_for_ci_run", false);
    w.n("value_for_ci_run");
    w.end_o();
}

/// A database connection.
pub(crate) struct ConnDef {
    pub name: &'static str,
    dialect: &'static str,
    dialect_label: &'static str,
    host: Option<&'static str>,
    port: Option<&'static str>,
    username: Option<&'static str>,
    database: &'static str,
    schema: Option<&'static str>,
    /// Plain-string `created_at`: `""` for the built-in connection.
    created_at: &'static str,
    builtin: bool,
    tmp_db: Option<&'static str>,
    jdbc: Option<&'static str>,
    driver: &'static str,
}

pub(crate) const CONNECTIONS: &[ConnDef] = &[
    ConnDef {
        name: "snowflake_prod",
        dialect: "snowflake",
        dialect_label: "Snowflake",
        host: Some("acme.us-east-1.snowflakecomputing.com"),
        port: Some("443"),
        username: Some("LOOKER_SVC"),
        database: "ANALYTICS",
        schema: Some("PUBLIC"),
        created_at: "2022-01-12T18:03:55.000+00:00",
        builtin: false,
        tmp_db: Some("LOOKER_SCRATCH"),
        jdbc: Some("warehouse=LOOKER_WH"),
        driver: "3.14.4",
    },
    ConnDef {
        name: "bigquery_analytics",
        dialect: "bigquery_standard_sql",
        dialect_label: "Google BigQuery Standard SQL",
        host: Some("acme-analytics"),
        port: None,
        username: None,
        database: "acme-analytics",
        schema: Some("marts"),
        created_at: "2022-03-02T10:44:12.000+00:00",
        builtin: false,
        tmp_db: Some("looker_scratch"),
        jdbc: None,
        driver: "1.5.2",
    },
    ConnDef {
        name: "postgres_app",
        dialect: "postgres",
        dialect_label: "PostgreSQL 9.5+",
        host: Some("replica.db.acme.internal"),
        port: Some("5432"),
        username: Some("looker_ro"),
        database: "app",
        schema: Some("public"),
        created_at: "2023-07-19T08:20:00.000+00:00",
        builtin: false,
        tmp_db: None,
        jdbc: Some("sslmode=require"),
        driver: "42.7.3",
    },
    ConnDef {
        name: "looker",
        dialect: "mysql",
        dialect_label: "MySQL",
        host: None,
        port: None,
        username: None,
        database: "looker",
        schema: None,
        created_at: "",
        builtin: true,
        tmp_db: None,
        jdbc: None,
        driver: "8.0.33",
    },
];

fn connection(index: usize, w: &mut Json<'_, '_>) {
    let c = &CONNECTIONS[index];
    w.vo();
    w.raw("can", CAN_CONNECTION);
    w.s("name", c.name);
    w.o("dialect");
    w.s("name", c.dialect);
    w.s("label", c.dialect_label);
    w.b("supports_cost_estimate", c.dialect.starts_with("bigquery"));
    w.n("cost_estimate_style");
    w.s("persistent_table_indexes", "");
    w.s("persistent_table_sortkeys", "");
    w.s("persistent_table_distkey", "");
    w.b("supports_streaming", true);
    w.b("automatically_run_sql_runner_snippets", true);
    w.strs(
        "connection_tests",
        &[
            "connect",
            "kill",
            "query",
            "database_timezone",
            "database_version",
            "tmp_db",
        ],
    );
    w.b("supports_inducer", !c.builtin);
    w.b("supports_multiple_databases", c.dialect != "postgres");
    w.b("supports_persistent_derived_tables", true);
    w.b("has_ssl_support", c.dialect == "postgres" || c.dialect == "mysql");
    w.end_o();
    w.a("snippets");
    if !c.builtin {
        w.vo();
        w.s("name", "show_processes");
        w.s("label", "Show Processes");
        w.s(
            "sql",
            if c.dialect == "postgres" {
                "SELECT * FROM pg_stat_activity"
            } else {
                "SHOW TRANSACTIONS"
            },
        );
        w.end_o();
    }
    w.end_a();
    w.b("pdts_enabled", !c.builtin);
    w.n("named_driver_version_requested");
    w.s("named_driver_version_actual", c.driver);
    w.os("host", c.host);
    w.os("port", c.port);
    w.os("username", c.username);
    w.n("password");
    w.b("has_password", c.username.is_some());
    w.b("uses_oauth", false);
    w.b("uses_key_pair_auth", false);
    w.b("uses_instance_oauth", false);
    w.b("uses_service_auth", c.dialect.starts_with("bigquery"));
    w.n("certificate");
    w.n("file_type");
    w.s("database", c.database);
    w.s("db_timezone", "UTC");
    w.s("query_timezone", "America/Los_Angeles");
    w.os("schema", c.schema);
    w.i("max_connections", if c.builtin { 10 } else { 30 });
    w.i("max_queries", 50);
    w.i("max_queries_per_user", 10);
    w.n("max_billing_gigabytes");
    w.b("ssl", !c.builtin);
    w.b("verify_ssl", !c.builtin);
    w.os("tmp_db_name", c.tmp_db);
    w.n("tmp_db_host");
    w.os("jdbc_additional_params", c.jdbc);
    w.i("pool_timeout", 120);
    w.s("dialect_name", c.dialect);
    w.b("supports_data_studio_link", false);
    w.s("created_at", c.created_at);
    if c.builtin {
        w.n("user_id");
    } else {
        w.id("user_id", 1);
    }
    w.b("example", c.builtin);
    w.b("user_db_credentials", false);
    w.a("user_attribute_fields");
    w.end_a();
    w.s("maintenance_cron", "*/5 * * * *");
    if c.builtin {
        w.s("last_regen_at", "");
        w.s("last_reap_at", "");
    } else {
        w.s("last_regen_at", "1718092801");
        w.s("last_reap_at", "1718089200");
    }
    w.b("sql_runner_precache_tables", true);
    w.b("sql_writing_with_info_schema", true);
    w.n("after_connect_statements");
    w.n("pdt_context_override");
    w.b("managed", c.builtin);
    w.n("custom_local_port");
    w.n("tunnel_id");
    w.b("uses_tns", false);
    w.i("pdt_concurrency", 1);
    w.b("disable_context_comment", false);
    w.n("oauth_application_id");
    w.b("always_retry_failed_builds", false);
    w.b("uses_application_default_credentials", false);
    w.n("impersonated_service_account");
    w.b("cost_estimate_enabled", false);
    w.b("pdt_api_control_enabled", false);
    w.b("connection_pooling", true);
    w.b("default_bq_connection", false);
    w.n("bq_storage_project_id");
    w.n("bq_roles_verified");
    w.n("p4sa_name");
    w.b("query_holding_disabled", false);
    w.n("service_name");
    w.end_o();
}

// ---------------------------------------------------------------------------------------------
// sort keys

/// The value of sort field `field` for item `index` of `res` (`Null` for unknown fields).
pub(crate) fn sort_value(d: &Dataset, res: Res, index: usize, field: &str) -> SortVal {
    let id = index as u64 + 1;
    if field == "id" {
        return SortVal::Int(index as i64);
    }
    match res {
        Res::Users => {
            let u = user_attrs(d, id);
            match field {
                "first_name" => SortVal::Str(u.first_name().to_owned()),
                "last_name" => SortVal::Str(u.last_name().to_owned()),
                "email" => SortVal::Str(u.email()),
                "is_disabled" => SortVal::Int(u.disabled as i64),
                _ => SortVal::Null,
            }
        }
        Res::Looks => {
            let a = look_attrs(d, id);
            match field {
                "title" => SortVal::Str(a.title()),
                "user_id" => SortVal::Int(a.owner as i64),
                "created_at" => SortVal::Int(a.created),
                "updated_at" => SortVal::Int(a.updated),
                "last_viewed_at" => a.last_viewed.map_or(SortVal::Null, SortVal::Int),
                "view_count" => SortVal::Int(a.views),
                "favorite_count" => SortVal::Int(a.favorites),
                "folder_id" | "space_id" => SortVal::Int(d.content_folder(id) as i64),
                "query_id" => SortVal::Int(d.look_qid(id) as i64),
                _ => SortVal::Null,
            }
        }
        Res::Dashboards => {
            let a = dash_attrs(d, id);
            match field {
                "title" => SortVal::Str(a.title()),
                "user_id" => SortVal::Int(a.owner as i64),
                "created_at" => SortVal::Int(a.created),
                "view_count" => SortVal::Int(a.views),
                "favorite_count" => SortVal::Int(a.favorites),
                "folder_id" | "space_id" => SortVal::Int(d.content_folder(id) as i64),
                "slug" => SortVal::Str(as_str(&a.slug).to_owned()),
                _ => SortVal::Null,
            }
        }
        Res::Folders => match field {
            "name" => SortVal::Str(folder_name(d, id)),
            "parent_id" => match id {
                1 | 2 => SortVal::Null,
                f if d.personal_folder_owner(f).is_some() => SortVal::Int(2),
                _ => SortVal::Int(1),
            },
            _ => SortVal::Null,
        },
        Res::Groups => match field {
            "name" => {
                let mut out = Vec::new();
                group(d, id, &mut Json::new(&mut out, None));
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
                SortVal::Str(v["name"].as_str().unwrap_or_default().to_owned())
            }
            "user_count" => SortVal::Int(d.group_size(id) as i64),
            _ => SortVal::Null,
        },
        _ => SortVal::Null,
    }
}
