//! The exposition: state, record counts and scrape errors as text, encoded by
//! `prometheus-client` (which writes names, types and escaped label values) in the order
//! given here.

use super::{RecordCounts, StateMetrics};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

/// The text format of an exposition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text exposition format, version 0.0.4 (what node_exporter's textfile
    /// collector reads).
    #[default]
    Prometheus,
    /// OpenMetrics 1.0 text (ends with `# EOF`; counters are typed without `_total`).
    OpenMetrics,
}

impl Format {
    /// The HTTP `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format a scraper asks for in its `Accept` header: OpenMetrics when it names
    /// `application/openmetrics-text`, else the Prometheus text format.
    pub fn from_accept(accept: &str) -> Format {
        if accept.contains("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// The stages whose errors `apparmor_scrape_errors_total` counts; each is present, zero
/// when nothing failed.
pub const SCRAPE_STAGES: &[&str] = &["enabled", "profiles", "processes", "revision", "log"];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
    Info,
}

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
struct Family {
    /// Without the `_total` of a counter or the `_info` of an info metric (the encoder
    /// adds them).
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Labels, u64)>,
}

#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0 {
            let ty = match f.kind {
                Kind::Gauge => MetricType::Gauge,
                Kind::Counter => MetricType::Counter,
                Kind::Info => MetricType::Info,
            };
            let mut me = encoder.encode_descriptor(f.name, f.help, None, ty)?;
            if let Kind::Info = f.kind {
                // One sample: the labels are the information.
                if let Some((labels, _)) = f.samples.first() {
                    Info::new(labels.clone()).encode(me)?;
                }
                continue;
            }
            for (labels, v) in &f.samples {
                match f.kind {
                    Kind::Info => {}
                    Kind::Gauge => ConstGauge::new(i64::try_from(*v).unwrap_or(i64::MAX))
                        .encode(me.encode_family(labels)?)?,
                    Kind::Counter => ConstCounter::new(*v).encode(me.encode_family(labels)?)?,
                }
            }
        }
        Ok(())
    }
}

fn gauge(name: &'static str, help: &'static str, samples: Vec<(Labels, u64)>) -> Family {
    Family {
        name,
        help,
        kind: Kind::Gauge,
        samples,
    }
}

fn counter(name: &'static str, help: &'static str, samples: Vec<(Labels, u64)>) -> Family {
    Family {
        name,
        help,
        kind: Kind::Counter,
        samples,
    }
}

fn families(
    state: Option<&StateMetrics>,
    records: Option<&RecordCounts>,
    scrape_errors: &BTreeMap<String, u64>,
) -> Vec<Family> {
    let mut out = Vec::new();
    if let Some(s) = state {
        out.push(gauge(
            "apparmor_enabled",
            "Whether AppArmor is enabled and its securityfs directory mounted (1) or not (0).",
            vec![(vec![], u64::from(s.enabled))],
        ));
        out.push(Family {
            name: "apparmor",
            help: "The kernel release and the apparmor_parser version (empty when unknown).",
            kind: Kind::Info,
            samples: vec![(
                vec![
                    (
                        "kernel_release",
                        s.kernel_release.clone().unwrap_or_default(),
                    ),
                    (
                        "parser_version",
                        s.parser_version.clone().unwrap_or_default(),
                    ),
                ],
                1,
            )],
        });
        if let Some(rev) = s.revision {
            out.push(gauge(
                "apparmor_policy_revision",
                "The kernel's policy revision counter: it grows on every policy load, \
                 replacement or removal.",
                vec![(vec![], rev)],
            ));
        }
        if s.enabled {
            out.push(gauge(
                "apparmor_profiles",
                "Loaded profiles by policy namespace (empty: the reader's own) and mode.",
                s.profiles
                    .iter()
                    .map(|((ns, mode), n)| {
                        (vec![("namespace", ns.clone()), ("mode", mode.clone())], *n)
                    })
                    .collect(),
            ));
            out.push(gauge(
                "apparmor_processes",
                "Processes by the mode of their label (hidden, unreadable or invalid when the \
                 label has none).",
                s.processes
                    .iter()
                    .map(|(mode, n)| (vec![("mode", mode.clone())], *n))
                    .collect(),
            ));
            out.push(gauge(
                "apparmor_processes_unconfined_with_profile",
                "Unconfined processes whose executable has a loaded profile (loaded after \
                 they started; a restart confines them).",
                vec![(vec![], s.unconfined_with_profile)],
            ));
        }
    }
    if let Some(r) = records {
        out.push(counter(
            "apparmor_records",
            "AppArmor audit records by profile, event, class and operation (label values \
             beyond the bounds are counted as other).",
            r.series()
                .map(|(k, n)| {
                    (
                        vec![
                            ("profile", k.profile.clone()),
                            ("event", k.event.to_owned()),
                            ("class", k.class.clone()),
                            ("operation", k.operation.clone()),
                        ],
                        n,
                    )
                })
                .collect(),
        ));
        out.push(counter(
            "apparmor_records_folded",
            "Records counted in apparmor_records_total with a label value replaced by other.",
            vec![(vec![], r.folded())],
        ));
        let unverified: BTreeMap<&str, u64> = r.unverified().collect();
        out.push(counter(
            "apparmor_records_unverified",
            "Records not counted in apparmor_records_total because the kernel did not send \
             them, by provenance.",
            ["trusted-helper", "untrusted"]
                .iter()
                .map(|p| {
                    (
                        vec![("provenance", (*p).to_owned())],
                        unverified.get(p).copied().unwrap_or(0),
                    )
                })
                .collect(),
        ));
    }
    let mut stages: BTreeMap<String, u64> =
        SCRAPE_STAGES.iter().map(|s| ((*s).to_owned(), 0)).collect();
    for (k, v) in scrape_errors {
        *stages.entry(k.clone()).or_default() += v;
    }
    out.push(counter(
        "apparmor_scrape_errors",
        "Failures to read part of the state or the log, by stage.",
        stages
            .into_iter()
            .map(|(stage, n)| (vec![("stage", stage)], n))
            .collect(),
    ));
    out
}

/// The exposition of `state`, `records` (each left out when `None`) and the scrape errors
/// by stage (every stage of [`SCRAPE_STAGES`] is present, zero unless counted here), in
/// `format`. OpenMetrics text ends with `# EOF`.
pub fn render(
    state: Option<&StateMetrics>,
    records: Option<&RecordCounts>,
    scrape_errors: &BTreeMap<String, u64>,
    format: Format,
) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(families(state, records, scrape_errors))));
    let mut out = String::new();
    // Writing to a String does not fail, and our collector returns only the writer's errors.
    let _ = match format {
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        }
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{EventType, Origin, Record};
    use crate::metrics::{Limits, RecordTrust};

    #[test]
    fn label_values_are_escaped_and_order_is_fixed() {
        let mut c = RecordCounts::new(Limits::default(), RecordTrust::KernelOnly);
        let mut r = Record {
            event: EventType::Denied,
            profile: Some("a \"q\"\nb\\".into()),
            operation: Some("open".into()),
            ..Record::default()
        };
        r.provenance.origin = Origin::Kernel;
        c.count(&r);
        let s = StateMetrics {
            enabled: true,
            ..StateMetrics::default()
        };
        let text = render(Some(&s), Some(&c), &BTreeMap::new(), Format::Prometheus);
        assert!(
            text.contains(
                "apparmor_records_total{profile=\"a \\\"q\\\"\\nb\\\\\",event=\"denied\",class=\"\",operation=\"open\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE apparmor_records_total counter\n"),
            "{text}"
        );
        assert!(text.contains("apparmor_info{kernel_release=\"\",parser_version=\"\"} 1\n"));
        assert_eq!(
            text,
            render(Some(&s), Some(&c), &BTreeMap::new(), Format::Prometheus)
        );
        let om = render(Some(&s), Some(&c), &BTreeMap::new(), Format::OpenMetrics);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE apparmor_records counter\n"), "{om}");
    }
}
