//! `NO_PROXY`: the hosts reached directly, in curl's reading of it.

/// Comma-separated entries: `*` (no proxy at all), a host name that also
/// covers its subdomains (`example.com` and `.example.com` both match
/// `api.example.com`), or an IP address. Ports and CIDR ranges are not
/// read (an entry with a port is matched on its host).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    /// Lowercase, without a leading dot or a port.
    entries: Vec<String>,
}

impl NoProxy {
    pub fn parse(text: &str) -> NoProxy {
        let mut no_proxy = NoProxy::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no_proxy.all = true;
                continue;
            }
            let entry = entry.trim_start_matches('.').to_ascii_lowercase();
            let host = match entry.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or_default().to_string(),
                // `host:port`, but not a bare IPv6 address (several colons).
                None if entry.matches(':').count() == 1 => {
                    entry.split(':').next().unwrap_or_default().to_string()
                }
                None => entry,
            };
            no_proxy.entries.push(host);
        }
        no_proxy
    }

    /// Whether `host` (no brackets, punycode) is reached without a proxy.
    pub fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            host == *entry
                || (host.len() > entry.len()
                    && host.ends_with(entry.as_str())
                    && host.as_bytes()[host.len() - entry.len() - 1] == b'.')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_hosts_their_subdomains_and_addresses() {
        let no_proxy = NoProxy::parse(" .example.com,localhost:8080, ::1 ,[fd00::1]:80");
        assert!(no_proxy.matches("example.com"));
        assert!(no_proxy.matches("API.example.com"));
        assert!(!no_proxy.matches("badexample.com"));
        assert!(no_proxy.matches("localhost"));
        assert!(no_proxy.matches("::1"));
        assert!(no_proxy.matches("fd00::1"));
        assert!(!no_proxy.matches("127.0.0.1"));
        assert!(NoProxy::parse("*").matches("anything.test"));
        assert!(!NoProxy::parse("").matches("anything.test"));
    }
}
