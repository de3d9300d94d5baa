//! Derived sandbox policies: `--allow-host`, `--deny-host`, `--allow-read-root`,
//! `--allow-write-root` (and the host-file variants) turn the base policy into
//! `<root>/.x07/policies/_generated/<base id>.g<8 hex>.policy.json`
//! (`observed-behaviour.md` §2).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::policy::validate_value;
use crate::report::{pretty_text, sort_keys};

/// The derived-policy flags of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--allow-host HOST:PORTS`.
    pub allow_hosts: Vec<String>,
    /// `--allow-host-file F`.
    pub allow_host_files: Vec<PathBuf>,
    /// `--deny-host HOST:PORTS|*`.
    pub deny_hosts: Vec<String>,
    /// `--deny-host-file F`.
    pub deny_host_files: Vec<PathBuf>,
    /// `--allow-read-root DIR`.
    pub allow_read_roots: Vec<String>,
    /// `--allow-write-root DIR`.
    pub allow_write_roots: Vec<String>,
}

impl Overrides {
    /// Whether any flag was given (only then is a policy derived).
    pub fn is_empty(&self) -> bool {
        self.allow_hosts.is_empty()
            && self.allow_host_files.is_empty()
            && self.deny_hosts.is_empty()
            && self.deny_host_files.is_empty()
            && self.allow_read_roots.is_empty()
            && self.allow_write_roots.is_empty()
    }
}

/// Why no derived policy could be made.
#[derive(Debug, Clone, PartialEq)]
pub enum DeriveError {
    /// A usage error (rc 2, one stderr line).
    Usage(String),
    /// The base policy fails the schema (rc 3, an x07diag line on stderr).
    Schema(String),
}

impl DeriveError {
    /// The x07diag line of a schema failure.
    pub fn diag_line(message: &str) -> String {
        let diag = json!({
            "schema_version": "x07.x07diag@0.1.0",
            "ok": false,
            "diagnostics": [{
                "code": "X07-POLICY-SCHEMA-0001",
                "severity": "error",
                "stage": "parse",
                "message": message,
            }],
        });
        format!("{diag}\n")
    }
}

/// Ports of a host spec.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ports {
    All,
    Some(BTreeSet<u64>),
}

fn parse_host_spec(spec: &str, deny: bool) -> Result<(String, Ports), String> {
    let spec = spec.trim();
    let (host, ports) = if let Some(rest) = spec.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((host, ports)) => (host, ports),
            None => return Err(no_port_message()),
        }
    } else {
        match spec.rsplit_once(':') {
            Some((host, ports)) => (host, ports),
            None => return Err(no_port_message()),
        }
    };
    if host.is_empty() || ports.is_empty() {
        return Err(no_port_message());
    }
    // A host is handed to the runtime in a `;`-joined list: `;` (or whitespace) would
    // smuggle in more entries (the policy schema's `^[^;\s]+$`).
    if host.chars().any(|c| c == ';' || c.is_whitespace()) {
        return Err(format!(
            "Expected HOST:PORTS (ports are 1..65535).: host must match ^[^;\\s]+$ (got {host:?})"
        ));
    }
    let host = host.to_ascii_lowercase();
    if ports == "*" {
        if deny {
            return Ok((host, Ports::All));
        }
        return Err(
            "Expected HOST:PORTS (ports are 1..65535; '*' is only valid for --deny-host)."
                .to_string(),
        );
    }
    let mut set = BTreeSet::new();
    for part in ports.split(',') {
        let port: u64 = part.trim().parse().map_err(|_| no_port_message())?;
        if !(1..=65535).contains(&port) {
            return Err("ports are 1..65535".to_string());
        }
        set.insert(port);
    }
    Ok((host, Ports::Some(set)))
}

fn no_port_message() -> String {
    "Expected HOST:PORTS (ports are 1..65535).: Expected HOST:PORTS.".to_string()
}

fn read_host_file(path: &Path) -> Result<Vec<String>, String> {
    let bytes = crate::project::read_source_file(path)
        .map_err(|err| format!("read host file: {}: {err}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "read host file: {}: stream did not contain valid UTF-8",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect())
}

/// A derived policy, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedPolicy {
    /// `g` + 8 hex digits.
    pub digest: String,
    /// The new `policy_id`.
    pub policy_id: String,
    /// The file text (pretty, sorted, trailing newline).
    pub text: String,
}

/// Computes the derived policy from the base file bytes and the flags.
pub fn derive(
    base_path: &Path,
    base_bytes: &[u8],
    overrides: &Overrides,
) -> Result<DerivedPolicy, DeriveError> {
    let mut allow: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut allow_specs = overrides.allow_hosts.clone();
    for file in &overrides.allow_host_files {
        allow_specs.extend(read_host_file(file).map_err(DeriveError::Usage)?);
    }
    for spec in &allow_specs {
        let (host, ports) = parse_host_spec(spec, false).map_err(DeriveError::Usage)?;
        if let Ports::Some(ports) = ports {
            allow.entry(host).or_default().extend(ports);
        }
    }
    let mut deny: BTreeMap<String, Ports> = BTreeMap::new();
    let mut deny_specs = overrides.deny_hosts.clone();
    for file in &overrides.deny_host_files {
        deny_specs.extend(read_host_file(file).map_err(DeriveError::Usage)?);
    }
    for spec in &deny_specs {
        let (host, ports) = parse_host_spec(spec, true).map_err(DeriveError::Usage)?;
        let entry = deny.entry(host).or_insert(Ports::Some(BTreeSet::new()));
        match (entry, ports) {
            (Ports::All, _) => {}
            (slot, Ports::All) => *slot = Ports::All,
            (Ports::Some(have), Ports::Some(more)) => have.extend(more),
        }
    }

    let mut base: Value = serde_json::from_slice(base_bytes)
        .map_err(|err| DeriveError::Schema(format!("parse policy JSON: {err}")))?;
    if let Some(first) = validate_value(&base).first() {
        return Err(DeriveError::Schema(first.schema_message()));
    }
    let wants_net = !allow.is_empty();
    if wants_net && base["net"]["enabled"] != Value::Bool(true) {
        return Err(DeriveError::Usage(
            "base policy disables networking (net.enabled=false)".into(),
        ));
    }
    if wants_net && base["net"]["allow_tcp"] != Value::Bool(true) {
        return Err(DeriveError::Usage(
            "base policy forbids TCP (net.allow_tcp=false)".into(),
        ));
    }
    let wants_fs =
        !overrides.allow_read_roots.is_empty() || !overrides.allow_write_roots.is_empty();
    if wants_fs && base["fs"]["enabled"] != Value::Bool(true) {
        return Err(DeriveError::Usage(
            "base policy disables filesystem access (fs.enabled=false)".into(),
        ));
    }

    let sorted_unique = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let canonical = json!({
        "allow_hosts": allow.iter().map(|(host, ports)| json!({"host": host, "ports": ports})).collect::<Vec<_>>(),
        "allow_read_roots": sorted_unique(&overrides.allow_read_roots),
        "allow_write_roots": sorted_unique(&overrides.allow_write_roots),
        "deny_hosts": deny.iter().map(|(host, ports)| match ports {
            Ports::All => json!({"all_ports": true, "host": host, "ports": []}),
            Ports::Some(ports) => json!({"all_ports": false, "host": host, "ports": ports}),
        }).collect::<Vec<_>>(),
    });
    let mut canonical = canonical;
    sort_keys(&mut canonical);
    let mut hasher = Sha256::new();
    hasher.update(base_bytes);
    hasher.update(canonical.to_string().as_bytes());
    let hash = hasher.finalize();
    let digest = format!(
        "g{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    );

    // Hosts: the base entries keep their place (with new ports merged in), new hosts follow.
    let mut hosts: Vec<(String, BTreeSet<u64>)> = base["net"]["allow_hosts"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    let host = entry["host"].as_str().unwrap_or_default().to_string();
                    let ports = entry["ports"]
                        .as_array()
                        .map(|p| p.iter().filter_map(Value::as_u64).collect())
                        .unwrap_or_default();
                    (host, ports)
                })
                .collect()
        })
        .unwrap_or_default();
    for (host, ports) in &allow {
        match hosts.iter_mut().find(|(existing, _)| existing == host) {
            Some((_, existing)) => existing.extend(ports.iter().copied()),
            None => hosts.push((host.clone(), ports.clone())),
        }
    }
    // A deny names a host the way the flags are normalised (lower case); it also removes
    // a base entry written in another case, which names the same host.
    for (host, ports) in hosts.iter_mut() {
        match deny.get(&host.to_ascii_lowercase()) {
            Some(Ports::All) => ports.clear(),
            Some(Ports::Some(denied)) => ports.retain(|port| !denied.contains(port)),
            None => {}
        }
    }
    hosts.retain(|(_, ports)| !ports.is_empty());
    if !allow.is_empty() {
        base["net"]["allow_hosts"] = hosts
            .iter()
            .map(|(host, ports)| json!({"host": host, "ports": ports}))
            .collect::<Vec<_>>()
            .into();
        if allow
            .keys()
            .any(|host| host.chars().any(|c| c.is_ascii_alphabetic()))
        {
            base["net"]["allow_dns"] = true.into();
        }
    } else if !deny.is_empty() {
        base["net"]["allow_hosts"] = hosts
            .iter()
            .map(|(host, ports)| json!({"host": host, "ports": ports}))
            .collect::<Vec<_>>()
            .into();
    }
    for (key, extra) in [
        ("read_roots", &overrides.allow_read_roots),
        ("write_roots", &overrides.allow_write_roots),
    ] {
        if extra.is_empty() {
            continue;
        }
        let mut roots: Vec<Value> = base["fs"][key].as_array().cloned().unwrap_or_default();
        for root in extra {
            if !roots.iter().any(|existing| existing.as_str() == Some(root)) {
                roots.push(root.clone().into());
            }
        }
        base["fs"][key] = roots.into();
    }
    let base_id = base["policy_id"].as_str().unwrap_or("policy").to_string();
    let policy_id = format!("{base_id}.{digest}");
    base["policy_id"] = policy_id.clone().into();
    let provenance = format!(
        "Derived by x07 run from `{}` ({digest})",
        base_path.display()
    );
    let notes = match base["notes"].as_str() {
        Some(notes) if !notes.is_empty() => format!("{notes}\n{provenance}"),
        _ => provenance,
    };
    base["notes"] = notes.into();
    sort_keys(&mut base);
    Ok(DerivedPolicy {
        digest,
        text: pretty_text(&base),
        policy_id,
    })
}

/// Writes the derived policy under `<root>/.x07/policies/_generated/` (untouched when the
/// same bytes are already there) and returns its absolute path.
/// Nothing on the way is followed if it is a symlink (see
/// [`crate::project::write_below`]): a link planted in the project cannot make the
/// runner write outside it, nor make it run under another file's policy.
pub fn write_derived(root: &Path, derived: &DerivedPolicy) -> std::io::Result<PathBuf> {
    const DIRS: [&str; 3] = [".x07", "policies", "_generated"];
    let name = format!("{}.policy.json", derived.policy_id);
    let path = DIRS
        .iter()
        .fold(root.to_path_buf(), |path, dir| path.join(dir))
        .join(&name);
    let unlinked = DIRS
        .iter()
        .scan(root.to_path_buf(), |path, dir| {
            path.push(dir);
            Some(path.clone())
        })
        .chain([path.clone()])
        .all(|step| std::fs::symlink_metadata(&step).is_ok_and(|meta| !meta.is_symlink()));
    let same = unlinked
        && std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file() && meta.nlink() == 1)
        && std::fs::read(&path).is_ok_and(|existing| existing == derived.text.as_bytes());
    if !same {
        crate::project::write_below(root, &DIRS, name.as_ref(), derived.text.as_bytes())?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real http-client base, rebuilt from the recorded derived policy.
    fn real_http_client_base() -> Vec<u8> {
        let text =
            include_str!("../tests/data/reports/derived-policy-allow-host.generated-policy.json");
        let mut value: Value = serde_json::from_str(text).unwrap();
        value["policy_id"] = "sandbox.http-client.base".into();
        value["net"]["allow_hosts"] = json!([]);
        let notes = value["notes"]
            .as_str()
            .unwrap()
            .split("\nDerived")
            .next()
            .unwrap()
            .to_string();
        value["notes"] = notes.into();
        pretty_text(&value).into_bytes()
    }

    fn overrides(allow: &[&str], deny: &[&str]) -> Overrides {
        Overrides {
            allow_hosts: allow.iter().map(|s| s.to_string()).collect(),
            deny_hosts: deny.iter().map(|s| s.to_string()).collect(),
            ..Overrides::default()
        }
    }

    #[test]
    fn digests_match_the_real_names() {
        let base = real_http_client_base();
        let path = Path::new("/p/.x07/policies/base/http-client.sandbox.base.policy.json");
        let derived = derive(path, &base, &overrides(&["example.com:443"], &[])).unwrap();
        assert_eq!(derived.digest, "g8fef694d");
        let derived = derive(
            path,
            &base,
            &overrides(&["example.com:443,80"], &["example.com:80"]),
        )
        .unwrap();
        assert_eq!(derived.digest, "g49d07865");
        assert_eq!(derived.policy_id, "sandbox.http-client.base.g49d07865");
        let value: Value = serde_json::from_str(&derived.text).unwrap();
        assert_eq!(
            value["net"]["allow_hosts"],
            json!([{"host": "example.com", "ports": [443]}])
        );
        // Two flags and one comma list give the same digest.
        let a = derive(
            path,
            &base,
            &overrides(&["example.com:80", "example.com:443"], &[]),
        )
        .unwrap();
        let b = derive(path, &base, &overrides(&["example.com:443,80"], &[])).unwrap();
        assert_eq!(a.digest, b.digest);
    }

    #[test]
    fn host_normalisation_and_deny_all() {
        let base = real_http_client_base();
        let path = Path::new("/b.json");
        let derived = derive(
            path,
            &base,
            &overrides(&["Example.COM:443,80", "[::1]:8080"], &[]),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&derived.text).unwrap();
        assert_eq!(
            value["net"]["allow_hosts"],
            json!([{"host": "::1", "ports": [8080]}, {"host": "example.com", "ports": [80, 443]}])
        );
        let derived = derive(
            path,
            &base,
            &overrides(&["example.com:443"], &["example.com:*"]),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&derived.text).unwrap();
        assert_eq!(value["net"]["allow_hosts"], json!([]));
        assert!(value["notes"].as_str().unwrap().ends_with(&format!(
            "\nDerived by x07 run from `/b.json` ({})",
            derived.digest
        )));
    }

    #[test]
    fn flag_errors() {
        let base = real_http_client_base();
        let path = Path::new("/b.json");
        let err = |allow: &[&str]| derive(path, &base, &overrides(allow, &[])).unwrap_err();
        assert_eq!(
            err(&["example.com:*"]),
            DeriveError::Usage(
                "Expected HOST:PORTS (ports are 1..65535; '*' is only valid for --deny-host)."
                    .into()
            )
        );
        assert_eq!(
            err(&["example.com"]),
            DeriveError::Usage(
                "Expected HOST:PORTS (ports are 1..65535).: Expected HOST:PORTS.".into()
            )
        );
        assert_eq!(
            err(&["example.com:0"]),
            DeriveError::Usage("ports are 1..65535".into())
        );
        assert_eq!(
            err(&["a.com;b.com:443"]),
            DeriveError::Usage(
                "Expected HOST:PORTS (ports are 1..65535).: host must match ^[^;\\s]+$ (got \"a.com;b.com\")"
                    .into()
            )
        );
        let cli = crate::templates::template_json("cli").unwrap().as_bytes();
        assert_eq!(
            derive(path, cli, &overrides(&["example.com:443"], &[])).unwrap_err(),
            DeriveError::Usage("base policy disables networking (net.enabled=false)".into())
        );
        let mut extra: Value = serde_json::from_slice(cli).unwrap();
        extra["extra_key"] = true.into();
        let extra = extra.to_string();
        assert_eq!(
            derive(
                path,
                extra.as_bytes(),
                &Overrides {
                    allow_read_roots: vec!["sub".into()],
                    ..Overrides::default()
                }
            )
            .unwrap_err(),
            DeriveError::Schema(
                "Additional properties are not allowed ('extra_key' was unexpected) ()".into()
            )
        );
    }

    #[test]
    fn a_deny_removes_a_base_host_written_in_another_case() {
        let mut base: Value =
            serde_json::from_str(crate::templates::template_json("http-client").unwrap()).unwrap();
        base["net"]["allow_hosts"] = json!([
            {"host": "Example.COM", "ports": [80, 443]},
            {"host": "other.org", "ports": [443]},
        ]);
        let base = pretty_text(&base);
        let derived = derive(
            Path::new("/b.json"),
            base.as_bytes(),
            &overrides(&[], &["example.com:*", "OTHER.org:443"]),
        )
        .unwrap();
        let value: Value = serde_json::from_str(&derived.text).unwrap();
        assert_eq!(value["net"]["allow_hosts"], json!([]));
    }

    #[test]
    fn roots_are_appended_in_order() {
        let cli = crate::templates::template_json("cli").unwrap().as_bytes();
        let flags = Overrides {
            allow_read_roots: vec!["data".into()],
            allow_write_roots: vec!["tmp".into(), "/abs/dir".into()],
            ..Overrides::default()
        };
        let derived = derive(Path::new("/b.json"), cli, &flags).unwrap();
        let value: Value = serde_json::from_str(&derived.text).unwrap();
        assert_eq!(value["fs"]["read_roots"], json!([".", "data"]));
        assert_eq!(
            value["fs"]["write_roots"],
            json!(["out", "tmp", "/abs/dir"])
        );
    }
}
