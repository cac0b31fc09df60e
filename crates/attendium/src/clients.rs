//! The cache of dynamically registered clients.
//!
//! Attendium's documentation says to register once per application and reuse the
//! `client_id`. A registration is only valid for the redirect URIs it names, and servers
//! may compare loopback ports exactly, so the cache is keyed by issuer *and* redirect URI.
//! The redirect URIs registered with an issuer are listed so that the next login can try
//! to listen on one of their ports and reuse its registration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use auth_core::registration::{RegisteredClient, Secrets};
use serde_json::{Value, json};
use url::Url;

use crate::Error;

const VERSION: u64 = 1;

/// Registered clients, in memory and optionally in a JSON file (written atomically,
/// readable by its owner only, like the session file).
#[derive(Debug)]
pub(crate) struct ClientRegistry {
    path: Option<PathBuf>,
    // Key: "<issuer> <redirect uri>".
    entries: Mutex<Option<BTreeMap<String, RegisteredClient>>>,
}

fn key(issuer: &Url, redirect_uri: &Url) -> String {
    format!("{issuer} {redirect_uri}")
}

impl ClientRegistry {
    pub(crate) fn in_memory() -> Self {
        Self {
            path: None,
            entries: Mutex::new(Some(BTreeMap::new())),
        }
    }

    pub(crate) fn in_file(path: PathBuf) -> Self {
        Self {
            path: Some(path),
            entries: Mutex::new(None),
        }
    }

    /// The client registered for this issuer and redirect URI, if any.
    pub(crate) fn get(
        &self,
        issuer: &Url,
        redirect_uri: &Url,
    ) -> Result<Option<RegisteredClient>, Error> {
        self.with_entries(|entries| Ok(entries.get(&key(issuer, redirect_uri)).cloned()))
    }

    /// The redirect URIs registered for `issuer`, in no particular order.
    pub(crate) fn redirect_uris(&self, issuer: &Url) -> Result<Vec<Url>, Error> {
        let prefix = format!("{issuer} ");
        self.with_entries(|entries| {
            Ok(entries
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter_map(|uri| Url::parse(uri).ok())
                .collect())
        })
    }

    pub(crate) fn insert(
        &self,
        issuer: &Url,
        redirect_uri: &Url,
        client: RegisteredClient,
    ) -> Result<(), Error> {
        self.update(|entries| {
            entries.insert(key(issuer, redirect_uri), client);
        })
    }

    /// Forgets every registration for `issuer` (the server said `invalid_client`).
    pub(crate) fn forget_issuer(&self, issuer: &Url) -> Result<(), Error> {
        let prefix = format!("{issuer} ");
        self.update(|entries| entries.retain(|k, _| !k.starts_with(&prefix)))
    }

    fn with_entries<R>(
        &self,
        f: impl FnOnce(&BTreeMap<String, RegisteredClient>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // With a file, read it every time: another process may have registered since
        // (the file is small, and this happens once per login).
        if guard.is_none() || self.path.is_some() {
            *guard = Some(self.read()?);
        }
        match guard.as_ref() {
            Some(entries) => f(entries),
            None => f(&BTreeMap::new()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut BTreeMap<String, RegisteredClient>)) -> Result<(), Error> {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Re-read the file: another process may have registered in the meantime.
        let mut entries = match &self.path {
            Some(_) => self.read()?,
            None => guard.take().unwrap_or_default(),
        };
        f(&mut entries);
        if let Some(path) = &self.path {
            write(path, &entries)?;
        }
        *guard = Some(entries);
        Ok(())
    }

    fn read(&self) -> Result<BTreeMap<String, RegisteredClient>, Error> {
        let Some(path) = &self.path else {
            return Ok(BTreeMap::new());
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(store_error(path, "cannot be read", Some(e))),
        };
        let corrupt = |reason: &str| {
            Error::Auth(auth_core::Error::StoreCorrupt {
                path: path.display().to_string(),
                reason: reason.to_owned(),
            })
        };
        let doc: Value = serde_json::from_slice(&bytes).map_err(|_| corrupt("not JSON"))?;
        if doc.get("version").and_then(Value::as_u64) != Some(VERSION) {
            return Err(corrupt("unknown version"));
        }
        let Some(clients) = doc.get("clients").and_then(Value::as_array) else {
            return Err(corrupt("no `clients` list"));
        };
        let mut entries = BTreeMap::new();
        for entry in clients {
            let (Some(issuer), Some(redirect_uri), Some(client)) = (
                entry.get("issuer").and_then(Value::as_str),
                entry.get("redirect_uri").and_then(Value::as_str),
                entry.get("client"),
            ) else {
                return Err(corrupt(
                    "an entry lacks `issuer`, `redirect_uri` or `client`",
                ));
            };
            let client =
                RegisteredClient::from_json(client).map_err(|_| corrupt("an invalid client"))?;
            entries.insert(format!("{issuer} {redirect_uri}"), client);
        }
        Ok(entries)
    }
}

fn write(path: &Path, entries: &BTreeMap<String, RegisteredClient>) -> Result<(), Error> {
    let clients: Vec<Value> = entries
        .iter()
        .filter_map(|(k, client)| {
            let (issuer, redirect_uri) = k.split_once(' ')?;
            // The file is private (0600); a confidential client's secret must survive.
            Some(json!({
                "issuer": issuer,
                "redirect_uri": redirect_uri,
                "client": client.to_json(Secrets::Include),
            }))
        })
        .collect();
    let doc = json!({ "version": VERSION, "clients": clients });
    let bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|_| store_error(path, "cannot be serialised", None))?;
    auth_core::store::write_private_file(path, &bytes).map_err(Error::Auth)
}

fn store_error(path: &Path, reason: &str, source: Option<std::io::Error>) -> Error {
    Error::Auth(auth_core::Error::Store {
        path: Some(path.display().to_string()),
        reason: reason.to_owned(),
        source: source.map(std::sync::Arc::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> RegisteredClient {
        RegisteredClient::from_json(&json!({"client_id": id})).unwrap()
    }

    #[test]
    fn keyed_by_issuer_and_redirect_uri_and_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.json");
        let issuer = Url::parse("https://as.example").unwrap();
        let other = Url::parse("https://other.example").unwrap();
        let r1 = Url::parse("http://127.0.0.1:1234/callback").unwrap();
        let r2 = Url::parse("http://127.0.0.1:5678/callback").unwrap();

        let registry = ClientRegistry::in_file(path.clone());
        assert!(registry.get(&issuer, &r1).unwrap().is_none());
        registry.insert(&issuer, &r1, client("one")).unwrap();
        registry.insert(&other, &r2, client("two")).unwrap();

        let reopened = ClientRegistry::in_file(path.clone());
        assert_eq!(
            reopened
                .get(&issuer, &r1)
                .unwrap()
                .unwrap()
                .client_id
                .as_str(),
            "one"
        );
        assert!(reopened.get(&issuer, &r2).unwrap().is_none());
        assert_eq!(reopened.redirect_uris(&issuer).unwrap(), vec![r1.clone()]);

        reopened.forget_issuer(&issuer).unwrap();
        let again = ClientRegistry::in_file(path);
        assert!(again.get(&issuer, &r1).unwrap().is_none());
        assert!(again.get(&other, &r2).unwrap().is_some());
    }

    #[test]
    fn a_corrupt_file_is_an_error_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.json");
        std::fs::write(&path, b"{not json").unwrap();
        let registry = ClientRegistry::in_file(path.clone());
        let issuer = Url::parse("https://as.example").unwrap();
        let r = Url::parse("http://127.0.0.1:1/cb").unwrap();
        assert!(matches!(
            registry.get(&issuer, &r),
            Err(Error::Auth(auth_core::Error::StoreCorrupt { .. }))
        ));
        assert!(registry.insert(&issuer, &r, client("x")).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
    }
}
