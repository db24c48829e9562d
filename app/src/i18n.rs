//! Czech (default) and English. Every user-facing string lives in `locales/*.ftl` (Fluent);
//! code asks for it by key. The page language comes from `?lang=`, then the `lang` cookie,
//! then `Accept-Language`, then Czech; the server decides it and writes it into `<html lang>`,
//! from where the browser side reads it back.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Cs,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Cs, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Cs => "cs",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "cs" | "cz" | "cs-cz" => Some(Lang::Cs),
            "en" | "en-gb" | "en-us" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_code(primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Cs => include_str!("../locales/cs.ftl"),
            Lang::En => include_str!("../locales/en.ftl"),
        }
    }
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 2] {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.map(build_bundle))
}

fn build_bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id = match lang {
        Lang::Cs => unic_langid::langid!("cs"),
        Lang::En => unic_langid::langid!("en"),
    };
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    let resource =
        FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(res, errors)| {
            leptos::logging::error!("catalog {}: {errors:?}", lang.code());
            res
        });
    if let Err(errors) = bundle.add_resource(resource) {
        leptos::logging::error!("catalog {}: {errors:?}", lang.code());
    }
    bundle
}

/// The message `key` in `lang`, with `args`. A missing key shows the key itself (and a unit
/// test makes sure both catalogs have the same keys).
pub fn tr_args(lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let bundle = &bundles()[lang as usize];
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        leptos::logging::error!("missing message {key} ({})", lang.code());
        return key.to_owned();
    };
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
    out.into_owned()
}

pub fn tr(lang: Lang, key: &str) -> String {
    tr_args(lang, key, &[])
}

/// The page language, provided once at the root.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_else(page_lang)
}

/// The language of this page: decided by the server, read back from `<html lang>` in the
/// browser (where an island has no context of the page's).
pub fn page_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::meta().lang
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default()
    }
}

/// Shorthand inside components: `t("key")`.
pub fn t(key: &str) -> String {
    tr(use_lang(), key)
}

/// Formats a Unix time as a date the reader expects (`31. 12. 2026` / `31 Dec 2026`), in
/// Czech local time.
pub fn format_date(lang: Lang, unix: i64) -> String {
    let t = prague(unix);
    let (y, d) = (t.year(), t.day());
    match lang {
        Lang::Cs => format!("{d}. {}. {y}", u8::from(t.month())),
        Lang::En => {
            let month = t.month().to_string();
            format!("{d} {} {y}", &month[..3])
        }
    }
}

/// A date and `HH:MM`, as the reader expects them, in Czech local time.
pub fn format_date_time(lang: Lang, unix: i64) -> String {
    format!("{} {}", format_date(lang, unix), format_time(unix))
}

/// `HH:MM` in Czech local time.
pub fn format_time(unix: i64) -> String {
    let t = prague(unix);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// An ISO date `YYYY-MM-DD` as the reader writes it.
pub fn format_iso_date(lang: Lang, iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match (lang, parts.as_slice()) {
        (Lang::Cs, [y, m, d]) => format!(
            "{}. {}. {y}",
            d.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => iso.to_owned(),
    }
}

/// Europe/Prague: UTC+1, and UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on
/// the last Sunday of October (the EU rule).
/// The Unix time a day (`YYYY-MM-DD`) starts at in Czech local time; `None` for anything
/// that is not such a date.
pub fn prague_day_start(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-').map(str::parse::<i32>);
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let day = time::Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?;
    let utc = day.midnight().assume_utc().unix_timestamp();
    Some(utc - i64::from(prague(utc).offset().whole_seconds()))
}

/// The day after `YYYY-MM-DD`, in the same form (empty for anything else).
pub fn next_day(date: &str) -> String {
    prague_day_start(date)
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t + 36 * 3600).ok())
        .map(|t| {
            let t = prague(t.unix_timestamp());
            format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
        })
        .unwrap_or_default()
}

fn prague(unix: i64) -> time::OffsetDateTime {
    use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};
    let utc = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let switch = |month: Month| {
        Date::from_calendar_date(utc.year(), month, 31)
            .map(|last| (last + Duration::days(1)).prev_occurrence(Weekday::Sunday))
            .map(|sunday| sunday.midnight().assume_utc().unix_timestamp() + 3600)
            .unwrap_or(0)
    };
    let summer = unix >= switch(Month::March) && unix < switch(Month::October);
    let offset = UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(UtcOffset::UTC);
    utc.to_offset(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(src: &str) -> BTreeSet<String> {
        src.lines()
            .filter(|l| !l.starts_with([' ', '#']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next().map(str::to_owned))
            .collect()
    }

    #[test]
    fn a_day_starts_at_midnight_in_prague_in_winter_and_in_summer() {
        // 2026-01-15 00:00 CET = 2026-01-14 23:00 UTC
        assert_eq!(prague_day_start("2026-01-15"), Some(1_768_431_600));
        // 2026-07-01 00:00 CEST = 2026-06-30 22:00 UTC
        assert_eq!(prague_day_start("2026-07-01"), Some(1_782_856_800));
        assert_eq!(format_time(1_782_856_800), "00:00");
        for bad in ["", "2026-13-01", "2026-02-30", "yesterday", "2026-1"] {
            assert_eq!(prague_day_start(bad), None, "{bad}");
        }
        // the day the clocks go forward has 23 hours
        assert_eq!(next_day("2026-03-29"), "2026-03-30");
        let start = prague_day_start("2026-03-29").unwrap_or_default();
        let end = prague_day_start(&next_day("2026-03-29")).unwrap_or_default();
        assert_eq!(end - start, 23 * 3600);
        assert_eq!(next_day("2026-12-31"), "2027-01-01");
        assert_eq!(next_day("nonsense"), "");
    }

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let cs = keys(Lang::Cs.source());
        let en = keys(Lang::En.source());
        assert!(cs.len() > 50);
        assert_eq!(cs, en);
        for key in &cs {
            for lang in Lang::ALL {
                assert_ne!(&tr(lang, key), key, "{key} does not resolve in {lang:?}");
            }
        }
    }

    #[test]
    fn arguments_are_filled_without_isolation_marks() {
        let s = tr_args(Lang::Cs, "err-throttled", &[("minutes", 15.into())]);
        assert_eq!(
            s,
            "Příliš mnoho neúspěšných pokusů o přihlášení. Zkuste to znovu za 15 min."
        );
    }

    #[test]
    fn czech_plurals() {
        let n = |min: usize| tr_args(Lang::Cs, "err-too-short", &[("min", min.into())]);
        assert_eq!(n(1), "Zadejte alespoň 1 znak.");
        assert_eq!(n(3), "Zadejte alespoň 3 znaky.");
        assert_eq!(n(15), "Zadejte alespoň 15 znaků.");
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,cs;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("de;q=1.0, cs;q=0.5, en;q=0.4"),
            Some(Lang::Cs)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }

    #[test]
    fn dates_in_prague_time() {
        // 2026-11-25 23:30 UTC is already the 26th in Prague (UTC+1)
        assert_eq!(format_date(Lang::Cs, 1_795_649_400), "26. 11. 2026");
        assert_eq!(format_date(Lang::En, 1_795_649_400), "26 Nov 2026");
        // 2026-07-01 12:00 UTC is 14:00 in summer time
        assert_eq!(format_time(1_782_907_200), "14:00");
        assert_eq!(format_iso_date(Lang::Cs, "1980-02-03"), "3. 2. 1980");
    }
}
