//! Classifier settings: per-category threshold, action and regions.

use crate::{Error, Result, Store, now};
use filters::classify::{ClassifierConfig, Classifiers, default_configs};
use rusqlite::params;

impl Store {
    /// The settings in force: the stored ones, else the defaults of the embedded models.
    pub fn classifier_configs(&self) -> Result<Vec<ClassifierConfig>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT config FROM classifiers ORDER BY category")?;
        let stored: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if stored.is_empty() {
            return Ok(default_configs());
        }
        stored
            .iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|e| Error::Corrupt {
                    path: self.path.clone(),
                    reason: format!("a classifier setting does not parse: {e}"),
                })
            })
            .collect()
    }

    /// Replaces the settings (every category at once), after checking them against the
    /// embedded models (known categories, thresholds within 0..=1, valid regions).
    pub fn set_classifier_configs(
        &self,
        configs: Vec<ClassifierConfig>,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Vec<ClassifierConfig>> {
        Classifiers::embedded()
            .and_then(|c| c.reconfigure(&configs))
            .map_err(|e| Error::InvalidClassifiers(e.to_string()))?;
        let old = self.classifier_configs()?;
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM classifiers", [])?;
        for config in &configs {
            tx.execute(
                "INSERT INTO classifiers (category, config) VALUES (?1, ?2)",
                params![config.category, crate::to_json(config)],
            )?;
        }
        crate::audit::append(
            &tx,
            &now(),
            actor,
            "classifiers.update",
            "classifiers",
            Some(&old),
            Some(&configs),
            note,
        )?;
        tx.commit()?;
        Ok(configs)
    }
}
