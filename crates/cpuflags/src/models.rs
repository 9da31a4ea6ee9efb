//! Named x86 guest CPU models of QEMU 7.2 and libvirt 9.0 (vendored), with their features as
//! canonical flags.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::names::vocabulary;
use crate::psabi::{PsabiLevel, psabi};

/// Which tool defines a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Catalog {
    /// QEMU's `-cpu` models (`Haswell-v4`).
    Qemu,
    /// libvirt's `cpu_map` models (`Haswell-noTSX-IBRS`).
    Libvirt,
}

/// One named guest CPU model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpuModel {
    /// The model name as the tool spells it.
    pub name: String,
    /// Which tool defines it.
    pub catalog: Catalog,
    /// The vendor the guest sees (`GenuineIntel`, `AuthenticAMD`), if the model fixes one.
    pub vendor: Option<String>,
    /// For an unversioned QEMU name, the versioned model it stands for.
    pub alias_of: Option<String>,
    /// Its features a Linux capture can confirm, as canonical flags.
    pub flags: BTreeSet<String>,
    /// Its features no `/proc/cpuinfo` shows (MSR bits such as `mds-no`), in the tool's names.
    pub unverifiable: Vec<String>,
    /// The psABI level of `flags`.
    pub psabi_level: Option<PsabiLevel>,
}

/// Every QEMU 7.2 x86 model, versioned (`Haswell-v4`) and alias (`Haswell`), sorted by name.
pub fn qemu_models() -> &'static [CpuModel] {
    &catalogs().0
}

/// Every libvirt 9.0 x86 model, sorted by name.
pub fn libvirt_models() -> &'static [CpuModel] {
    &catalogs().1
}

/// A QEMU or libvirt model by name; QEMU's wins when both define it. Case-insensitive.
pub fn find_model(name: &str) -> Option<&'static CpuModel> {
    let find = |models: &'static [CpuModel]| {
        models
            .iter()
            .find(|m| m.name == name)
            .or_else(|| models.iter().find(|m| m.name.eq_ignore_ascii_case(name)))
    };
    find(qemu_models()).or_else(|| find(libvirt_models()))
}

#[derive(Deserialize)]
struct File {
    libvirt_models: BTreeMap<String, LibvirtRaw>,
    qemu_7_2_models: BTreeMap<String, QemuRaw>,
}

#[derive(Deserialize)]
struct LibvirtRaw {
    libvirt_features: Vec<String>,
    vendor: Option<String>,
}

#[derive(Deserialize)]
struct QemuRaw {
    alias_of: Option<String>,
    features: Vec<String>,
    vendor: Option<String>,
}

fn catalogs() -> &'static (Vec<CpuModel>, Vec<CpuModel>) {
    static CATALOGS: OnceLock<(Vec<CpuModel>, Vec<CpuModel>)> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        // The vendored file is checked by the tests; a broken copy is a build defect.
        let file: File = serde_json::from_str(include_str!("../data/models.json"))
            .expect("vendored models.json parses");
        let qemu = file
            .qemu_7_2_models
            .into_iter()
            .map(|(name, raw)| {
                let vendor = raw.vendor.filter(|v| !v.is_empty());
                model(name, Catalog::Qemu, vendor, raw.alias_of, &raw.features)
            })
            .collect();
        let libvirt = file
            .libvirt_models
            .into_iter()
            .map(|(name, raw)| {
                let vendor = raw.vendor.map(|v| {
                    match v.as_str() {
                        "Intel" => "GenuineIntel",
                        "AMD" => "AuthenticAMD",
                        "Hygon" => "HygonGenuine",
                        other => other,
                    }
                    .to_owned()
                });
                model(name, Catalog::Libvirt, vendor, None, &raw.libvirt_features)
            })
            .collect();
        (qemu, libvirt)
    })
}

fn model(
    name: String,
    catalog: Catalog,
    vendor: Option<String>,
    alias_of: Option<String>,
    features: &[String],
) -> CpuModel {
    let vocabulary = vocabulary();
    let mut flags = BTreeSet::new();
    let mut unverifiable = Vec::new();
    for feature in features {
        // QEMU sets `hypervisor` in every guest; no host needs it.
        if feature == "hypervisor" {
            continue;
        }
        match vocabulary
            .canonical(feature)
            .and_then(|c| vocabulary.feature(c))
        {
            Some(known) if known.visible_in_linux => {
                flags.insert(known.name.clone());
            }
            _ => unverifiable.push(feature.clone()),
        }
    }
    let psabi_level = psabi(&flags).level;
    CpuModel {
        name,
        catalog,
        vendor,
        alias_of,
        flags,
        unverifiable,
        psabi_level,
    }
}
