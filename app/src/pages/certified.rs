//! `/security-keys/certified`: the public list of authenticator models from the FIDO
//! metadata, with their certification level, searchable, filterable and sortable, 50 to a
//! page. Works without an account and without JavaScript (a GET form and links).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::i18n::{format_iso_date, t, tr_args, use_lang};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedModel {
    pub name: String,
    pub aaguid: Option<String>,
    /// FIDO2, U2F or UAF.
    pub protocol: String,
    /// `platform`, `roaming` or `unknown`.
    pub form: String,
    /// The FIDO name of the level, e.g. `FIDO_CERTIFIED_L1`.
    pub level: String,
    pub certified_on: Option<String>,
    pub nia_eligible: bool,
    /// A revocation or compromise (FIDO name) and its date.
    pub problem: Option<(String, Option<String>)>,
}

/// Models per page: the whole list (hundreds) made a page of 127 KB.
pub const PAGE_SIZE: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedList {
    /// This page's models.
    pub models: Vec<CertifiedModel>,
    /// How many match the search and filter (on every page).
    pub matched: usize,
    /// The position of this page's first model among them (from 1).
    pub first: usize,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// The metadata's `nextUpdate`.
    pub valid_until: String,
    pub stale: bool,
}

/// `level`: `` (all), `nia` (usable for NIA), `l2` (level 2 or higher), `none` (not usable);
/// `sort`: `level` (highest first) or `name`; `page`: from 1 (anything else is the first).
#[server(endpoint = "certified_models", input = server_fn::codec::GetUrl)]
pub async fn certified_models(
    q: String,
    level: String,
    sort: String,
    page: String,
) -> Result<CertifiedList, ApiError> {
    use idp::keys::mds::{Form as MdsForm, Level, Protocol};
    let md = crate::ssr::ctx()?.idp.metadata();
    let needle = q.trim().to_lowercase();
    let mut models: Vec<&idp::keys::mds::Model> = md
        .models
        .iter()
        .filter(|m| {
            needle.is_empty()
                || m.description.to_lowercase().contains(&needle)
                || m.aaguid.as_deref().is_some_and(|a| a.contains(&needle))
        })
        .filter(|m| match level.as_str() {
            "nia" => m.nia_eligible(),
            "l2" => m.nia_eligible() && m.level >= Level::L2,
            "none" => !m.nia_eligible(),
            _ => true,
        })
        .collect();
    if sort != "name" {
        // highest level first; unusable models after usable ones of the same level
        models.sort_by(|a, b| {
            (b.problem.is_none(), b.level)
                .cmp(&(a.problem.is_none(), a.level))
                .then_with(|| {
                    a.description
                        .to_lowercase()
                        .cmp(&b.description.to_lowercase())
                })
        });
    }
    let matched = models.len();
    let pages = matched.div_ceil(PAGE_SIZE).max(1);
    let page = page.parse::<usize>().unwrap_or(1).clamp(1, pages);
    let skip = (page - 1) * PAGE_SIZE;
    Ok(CertifiedList {
        matched,
        first: skip + 1,
        page,
        pages,
        total: md.models.len(),
        valid_until: md.next_update.clone(),
        stale: md.stale_since.is_some(),
        models: models
            .into_iter()
            .skip(skip)
            .take(PAGE_SIZE)
            .map(|m| CertifiedModel {
                name: m.description.clone(),
                aaguid: m.aaguid.clone(),
                protocol: match m.protocol {
                    Protocol::Fido2 => "FIDO2",
                    Protocol::U2f => "U2F",
                    Protocol::Uaf => "UAF",
                }
                .into(),
                form: match m.form {
                    MdsForm::Platform => "platform",
                    MdsForm::Roaming => "roaming",
                    MdsForm::Unknown => "unknown",
                }
                .into(),
                level: m.level.fido_name().into(),
                certified_on: m.certified_on.clone(),
                nia_eligible: m.nia_eligible(),
                problem: m
                    .problem
                    .as_ref()
                    .map(|(p, d)| (p.fido_name().to_owned(), d.clone())),
            })
            .collect(),
    })
}

#[component]
pub fn CertifiedPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let data = Resource::new(
        move || (param("q"), param("level"), param("sort"), param("page")),
        |(q, level, sort, page)| certified_models(q, level, sort, page),
    );
    // the same search on another page
    let page_href = move |page: usize| {
        let enc = |v: String| {
            percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        format!(
            "?q={}&level={}&sort={}&page={page}",
            enc(param("q")),
            enc(param("level")),
            enc(param("sort"))
        )
    };
    let sort_by_name = move || param("sort") == "name";
    view! {
        <Title text=t("certified-title") />
        <h1>{t("certified-title")}</h1>
        <p>{t("certified-intro")}</p>
        <Form method="GET" action="" attr:class="form filters">
            <div class="field">
                <label for="f-q">{t("certified-search")}</label>
                <input id="f-q" name="q" type="search" prop:value=move || param("q") value=param("q") />
            </div>
            <div class="field">
                <label for="f-level">{t("certified-filter")}</label>
                <select id="f-level" name="level">
                    {[("", "certified-filter-all"), ("nia", "certified-filter-nia"), ("l2", "certified-filter-l2"), ("none", "certified-filter-none")]
                        .into_iter()
                        .map(|(value, key)| view! { <option value=value selected=move || param("level") == value>{t(key)}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-sort">{t("certified-sort")}</label>
                <select id="f-sort" name="sort">
                    <option value="level" selected=move || !sort_by_name()>{t("certified-sort-level")}</option>
                    <option value="name" selected=sort_by_name>{t("certified-sort-name")}</option>
                </select>
            </div>
            <button type="submit">{t("certified-apply")}</button>
        </Form>
        <Transition fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any(),
                    Ok(list) => {
                        let count = tr_args(lang, "certified-count", &[("matched", list.matched.into()), ("total", list.total.into())]);
                        let last = list.first + list.models.len() - 1;
                        let position = tr_args(lang, "certified-page", &[("page", list.page.into()), ("pages", list.pages.into()), ("from", list.first.into()), ("to", last.into())]);
                        let (page, pages) = (list.page, list.pages);
                        let pager = (pages > 1).then(|| view! {
                            <nav class="pager" aria-label=t("certified-pages")>
                                {(page > 1).then(|| view! { <a href=page_href(page - 1) rel="prev">{t("certified-previous")}</a> })}
                                " " <span aria-current="page">{position}</span> " "
                                {(page < pages).then(|| view! { <a href=page_href(page + 1) rel="next">{t("certified-next")}</a> })}
                            </nav>
                        });
                        let source = tr_args(lang, "certified-source", &[("date", format_iso_date(lang, &list.valid_until).into())]);
                        view! {
                            <p role="status" class="count">{count}</p>
                            <div class="table-wrap">
                                <table class="models">
                                    <caption>{t("certified-caption")}</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col" aria-sort=move || if sort_by_name() { "ascending" } else { "none" }>{t("certified-col-name")}</th>
                                            <th scope="col" aria-sort=move || if sort_by_name() { "none" } else { "descending" }>{t("certified-col-level")}</th>
                                            <th scope="col">{t("certified-col-nia")}</th>
                                            <th scope="col">{t("certified-col-type")}</th>
                                            <th scope="col">{t("certified-col-protocol")}</th>
                                            <th scope="col">{t("certified-col-date")}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.models.into_iter().map(|m| model_row(m, lang)).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {pager}
                            <p class="hint">{source}</p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn model_row(m: CertifiedModel, lang: crate::i18n::Lang) -> impl IntoView {
    let nia = match (&m.problem, m.nia_eligible) {
        (Some((problem, date)), _) => {
            let date = date
                .as_deref()
                .map(|d| format_iso_date(lang, d))
                .unwrap_or_default();
            tr_args(
                lang,
                "certified-nia-problem",
                &[("problem", problem.clone().into()), ("date", date.into())],
            )
        }
        (None, true) => t("certified-nia-yes"),
        (None, false) => t("certified-nia-no"),
    };
    let form = t(&format!("certified-form-{}", m.form));
    let date = m
        .certified_on
        .as_deref()
        .map(|d| format_iso_date(lang, d))
        .unwrap_or_default();
    view! {
        <tr class:eligible=m.nia_eligible>
            <th scope="row">
                {m.name}
                {m.aaguid.map(|a| view! { <span class="aaguid">{a}</span> })}
            </th>
            <td>{m.level}</td>
            <td>{nia}</td>
            <td>{form}</td>
            <td>{m.protocol}</td>
            <td>{date}</td>
        </tr>
    }
}
