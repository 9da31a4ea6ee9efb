//! Backends and backend sets: parsed from `a,b,c:3`, never empty, names unique.

use std::fmt;

use crate::LbError;

/// The largest weight, as in `ipvsadm` (`-w 0..65535`).
pub const MAX_WEIGHT: u32 = 65_535;

/// One real server: a name and a weight. Weight 0 means drained (IPVS "quiesced"): the backend
/// stays in the set but gets no new flows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Backend {
    /// The name; it alone decides where the backend sits in a Maglev table.
    pub name: String,
    /// The relative share of flows it should get, `0..=MAX_WEIGHT`.
    pub weight: u32,
}

impl Backend {
    /// A backend with weight 1.
    pub fn new(name: impl Into<String>) -> Backend {
        Backend {
            name: name.into(),
            weight: 1,
        }
    }

    /// Parses one `name` or `name:weight` (weight defaults to 1).
    pub fn parse(spec: &str) -> Result<Backend, LbError> {
        parse_one(spec, 1)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.weight)
    }
}

/// A non-empty list of backends with unique names and weights in range, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backends {
    list: Vec<Backend>,
}

impl Backends {
    /// Checks a list: at least one backend, no empty or repeated name, weights in range.
    pub fn new(list: Vec<Backend>) -> Result<Backends, LbError> {
        if list.is_empty() {
            return Err(LbError::NoBackends);
        }
        let mut names: Vec<&str> = Vec::with_capacity(list.len());
        for (idx, backend) in list.iter().enumerate() {
            if backend.name.is_empty() {
                return Err(LbError::EmptyName { position: idx + 1 });
            }
            if backend.weight > MAX_WEIGHT {
                return Err(LbError::WeightOutOfRange {
                    name: backend.name.clone(),
                    weight: u64::from(backend.weight),
                    max: MAX_WEIGHT,
                });
            }
            names.push(&backend.name);
        }
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(LbError::DuplicateName {
                name: pair[0].to_owned(),
            });
        }
        Ok(Backends { list })
    }

    /// Parses `a,b,c:3`: comma-separated names, each with an optional `:weight` (default 1).
    /// Spaces around names and weights are ignored.
    pub fn parse(spec: &str) -> Result<Backends, LbError> {
        if spec.trim().is_empty() {
            return Err(LbError::NoBackends);
        }
        let list = spec
            .split(',')
            .enumerate()
            .map(|(idx, item)| parse_one(item, idx + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Backends::new(list)
    }

    /// The backends, in the order given.
    pub fn as_slice(&self) -> &[Backend] {
        &self.list
    }

    /// How many backends there are (at least 1).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Always false: a backend set is never empty. Here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The position of the backend called `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|b| b.name == name)
    }

    /// The same set without `name`; the others keep their order.
    pub fn without(&self, name: &str) -> Result<Backends, LbError> {
        let idx = self.position(name).ok_or_else(|| LbError::UnknownBackend {
            name: name.to_owned(),
        })?;
        let mut list = self.list.clone();
        list.remove(idx);
        Backends::new(list)
    }

    /// The same set with `backend` appended.
    pub fn with(&self, backend: Backend) -> Result<Backends, LbError> {
        let mut list = self.list.clone();
        list.push(backend);
        Backends::new(list)
    }
}

impl fmt::Display for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, backend) in self.list.iter().enumerate() {
            if idx > 0 {
                f.write_str(",")?;
            }
            write!(f, "{backend}")?;
        }
        Ok(())
    }
}

fn parse_one(item: &str, position: usize) -> Result<Backend, LbError> {
    let (name, weight) = match item.split_once(':') {
        Some((name, weight)) => (name.trim(), Some(weight.trim())),
        None => (item.trim(), None),
    };
    if name.is_empty() {
        return Err(LbError::EmptyName { position });
    }
    let weight = match weight {
        None => 1,
        Some(text) => {
            let value: u64 = text.parse().map_err(|source| LbError::BadWeight {
                name: name.to_owned(),
                text: text.to_owned(),
                source,
            })?;
            u32::try_from(value)
                .ok()
                .filter(|w| *w <= MAX_WEIGHT)
                .ok_or_else(|| LbError::WeightOutOfRange {
                    name: name.to_owned(),
                    weight: value,
                    max: MAX_WEIGHT,
                })?
        }
    };
    Ok(Backend {
        name: name.to_owned(),
        weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(spec: &str, expected: Result<&str, &str>) {
        let got = Backends::parse(spec)
            .map(|b| b.to_string())
            .map_err(|e| e.to_string());
        match (&got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{spec:?}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{spec:?}: {got}"),
            _ => panic!("{spec:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn parses_specs() {
        check("a,b,c", Ok("a:1,b:1,c:1"));
        check("a:3, b ,c:0", Ok("a:3,b:1,c:0"));
        check("10.0.0.1:2", Ok("10.0.0.1:2"));
        check(" solo ", Ok("solo:1"));
        check("a:65535", Ok("a:65535"));
    }

    #[test]
    fn refuses_bad_specs() {
        check("", Err("no backends"));
        check("  ", Err("no backends"));
        check("a,,b", Err("backend 2 has an empty name"));
        check(":3", Err("backend 1 has an empty name"));
        check("a,b,a", Err("\"a\" is listed twice"));
        check("a:x", Err("weight \"x\" is not a number"));
        check("a:-1", Err("weight \"-1\" is not a number"));
        check("a:", Err("weight \"\" is not a number"));
        check("a:1:2", Err("weight \"1:2\" is not a number"));
        check("a:65536", Err("weight 65536 is above the maximum 65535"));
        check("a:99999999999999999999", Err("is not a number"));
    }

    #[test]
    fn without_and_with() {
        let set = Backends::parse("a,b:2,c").unwrap();
        assert_eq!(set.without("b").unwrap().to_string(), "a:1,c:1");
        assert_eq!(
            set.without("z"),
            Err(LbError::UnknownBackend { name: "z".into() })
        );
        let solo = Backends::parse("a").unwrap();
        assert_eq!(solo.without("a"), Err(LbError::NoBackends));
        assert_eq!(
            set.with(Backend::new("d")).unwrap().to_string(),
            "a:1,b:2,c:1,d:1"
        );
        assert_eq!(
            set.with(Backend::new("a")),
            Err(LbError::DuplicateName { name: "a".into() })
        );
    }
}
