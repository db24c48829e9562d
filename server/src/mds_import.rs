//! `mojeid-server mds import FILE`: verifies a new FIDO metadata BLOB against the configured
//! root and puts it in place of `MDS_BLOB_PATH`; running servers pick it up within a minute.
//! An older BLOB (lower serial number) than the one in place is refused: serials only grow.

use crate::Config;

/// What an import did, for the operator.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    pub serial: u64,
    pub models: usize,
    pub next_update: String,
    pub previous_serial: Option<u64>,
    pub stale: bool,
}

pub fn import(config: &Config, file: &str, now: i64) -> Result<Imported, String> {
    let blob = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let root = std::fs::read(&config.mds_root_path)
        .map_err(|e| format!("MDS_ROOT_PATH={}: {e}", config.mds_root_path))?;
    let staleness = if config.mds_allow_stale {
        idp::keys::mds::Staleness::Allow
    } else {
        idp::keys::mds::Staleness::Refuse
    };
    let new = idp::keys::mds::Metadata::load(&blob, &root, staleness, now)
        .map_err(|e| format!("{file}: {e}"))?;
    // the BLOB in place, if it still verifies
    let previous = std::fs::read_to_string(&config.mds_blob_path)
        .ok()
        .and_then(|old| {
            idp::keys::mds::Metadata::load(&old, &root, idp::keys::mds::Staleness::Allow, now).ok()
        });
    if let Some(old) = &previous {
        if new.serial < old.serial {
            return Err(format!(
                "{file}: BLOB number {} is older than the one in place ({}); refusing to go back",
                new.serial, old.serial
            ));
        }
    }
    let target = std::path::Path::new(&config.mds_blob_path);
    let tmp = target.with_extension("jwt.importing");
    std::fs::write(&tmp, blob.trim()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, target)
        .map_err(|e| format!("MDS_BLOB_PATH={}: {e}", config.mds_blob_path))?;
    Ok(Imported {
        serial: new.serial,
        models: new.models.len(),
        next_update: new.next_update.clone(),
        previous_serial: previous.map(|p| p.serial),
        stale: new.stale_since.is_some(),
    })
}

/// The modification time of the BLOB file, to notice an import.
pub fn blob_mtime(config: &Config) -> Option<std::time::SystemTime> {
    std::fs::metadata(&config.mds_blob_path)
        .and_then(|m| m.modified())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const BLOB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fido/mds/blob.jwt");
    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fido/mds/root-r3.crt");
    const TODAY: i64 = 1_795_600_800;

    fn config(blob_path: &str, allow_stale: bool) -> Config {
        let env: HashMap<&str, String> = HashMap::from([
            ("MDS_BLOB_PATH", blob_path.to_owned()),
            ("MDS_ROOT_PATH", ROOT.to_owned()),
            ("MDS_ALLOW_STALE", allow_stale.to_string()),
            ("APP_MODE", "test".to_owned()),
        ]);
        Config::from_lookup(|k| env.get(k).cloned()).expect("config")
    }

    #[test]
    fn a_valid_blob_is_put_in_place_and_a_bad_one_changes_nothing() {
        let dir = std::env::temp_dir().join(format!("mds-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let target = dir.join("blob.jwt");
        let c = config(target.to_str().expect("utf-8"), true);

        let done = import(&c, BLOB, TODAY).expect("import");
        assert_eq!(
            (done.serial, done.models, done.previous_serial, done.stale),
            (121, 280, None, true)
        );
        assert_eq!(
            std::fs::read_to_string(&target).expect("in place").len(),
            std::fs::read_to_string(BLOB).expect("blob").trim().len()
        );

        // re-importing the same serial is fine (idempotent)
        assert_eq!(
            import(&c, BLOB, TODAY).expect("again").previous_serial,
            Some(121)
        );

        // a forged BLOB is refused and the one in place stays
        let forged = dir.join("forged.jwt");
        let text = std::fs::read_to_string(BLOB).expect("blob");
        let mut parts: Vec<String> = text.trim().split('.').map(str::to_owned).collect();
        // one changed character in the middle of the signature
        let mut sig: Vec<char> = parts[2].chars().collect();
        sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
        parts[2] = sig.into_iter().collect();
        std::fs::write(&forged, parts.join(".")).expect("write");
        let err = import(&c, forged.to_str().expect("utf-8"), TODAY).expect_err("forged");
        assert!(err.contains("signature"), "{err}");
        assert_eq!(
            import(&c, BLOB, TODAY)
                .expect("still valid")
                .previous_serial,
            Some(121)
        );

        // without permission for stale metadata, the shipped BLOB is refused
        let strict = config(target.to_str().expect("utf-8"), false);
        assert!(import(&strict, BLOB, TODAY)
            .expect_err("stale")
            .contains("stale"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
